"""The one seam between the token manager (asyncio) and the widgets (Qt).

Widgets never see the manager. They read :class:`ServerView` snapshots from
the bridge, listen to its signals, and start actions with its methods, each
of which returns an ``asyncio.Task`` the bridge owns: the bridge marks the
server busy while it runs, turns a failure into ``actionFailed`` with words
the user can act on (``McpAuthError.user_message``), and cancels everything
on :meth:`aclose`. Manager events arrive on the loop thread (qasync runs
asyncio on the Qt thread) and are turned into signals; state changes are
coalesced so a refresh storm of hundreds of servers costs one repaint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from mcp_auth_desktop.core import stale_client
from mcp_auth_desktop.core import state as core_state
from mcp_auth_desktop.core.errors import McpAuthError, sanitize_server_text
from mcp_auth_desktop.core.mcp.display import protocol_label
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.ports import ManagerLike
from mcp_auth_desktop.gui.redact import Redactor

__all__ = ["ManagerBridge", "AddServerRequest", "Tool"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class AddServerRequest:
    """What the Add server dialog collected. ``client_secret`` never reaches a repr."""

    url: str
    name: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_auth_method: str | None = None
    scopes: tuple[str, ...] = ()
    options: ServerOptions = field(default_factory=ServerOptions)
    #: False for "Add anyway, sign in later": store it without contacting the server.
    discover: bool = True


@dataclass(frozen=True)
class Tool:
    """One entry of an MCP ``tools/list`` answer, as shown in the details panel."""

    name: str
    description: str = ""


#: Key of actions not bound to one server (adding a server).
GLOBAL = ""


class ManagerBridge(QObject):
    """Turns manager events into Qt signals and runs manager actions as owned tasks.

    Signals:
        serversChanged(list[str]): ids whose snapshot changed (coalesced).
        serverAdded(str), serverRemoved(str): rows appear or go.
        busyChanged(str, bool): a server (or ``""`` for global work) started/stopped work.
        actionFailed(str, str, str): server id, action, message for the user.
        actionSucceeded(str, str, str): server id, action, message for the user.
        notify(str, str, str): kind (``sign-in`` / ``refresh-failed``), title, text.
        logLine(float, str, str): time, level, redacted text for the log view.
        authorizationUrl(str, str): server id, the URL the user must open to sign in.
    """

    serversChanged = Signal(list)
    serverAdded = Signal(str)
    serverRemoved = Signal(str)
    busyChanged = Signal(str, bool)
    actionFailed = Signal(str, str, str)
    actionSucceeded = Signal(str, str, str)
    notify = Signal(str, str, str)
    logLine = Signal(float, str, str)
    authorizationUrl = Signal(str, str)

    def __init__(
        self,
        manager: ManagerLike,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        redactor: Redactor | None = None,
        url_opener: Callable[[str], None] | None = None,
        coalesce_ms: int = 40,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._manager = manager
        self._loop = loop
        self.redactor = redactor or Redactor()
        self._url_opener = url_opener
        self._tasks: dict[asyncio.Task[Any], tuple[str, str]] = {}
        #: Why the last add failed (None after a success), for the add dialog.
        self.last_add_error: McpAuthError | None = None
        self._busy: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._names: dict[str, str] = {}
        self._failing: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(coalesce_ms)
        self._flush.timeout.connect(self._on_flush_timeout)

    # ----------------------------------------------------------------- reading

    def start(self) -> None:
        """Begin listening to the manager (call once the manager has started)."""
        for view in self._manager.servers():
            self._names[view.id] = view.name
        self._unsubscribe = self._manager.subscribe(self._on_manager_event)

    def attach(self, manager: ManagerLike) -> None:
        """Take over from the manager shown so far (the first frame's settings preview).

        Rows the new manager also has are repainted from it; others come and go as
        if added or removed, so the window and the tray never show a stale row.
        """
        old = {view.id for view in self._manager.servers()}
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._manager = manager
        self._names.clear()
        self.start()
        new = set(self._names)
        for sid in sorted(old - new):
            self.serverRemoved.emit(sid)
        for sid in sorted(new - old):
            self.serverAdded.emit(sid)
        if old & new:
            self.serversChanged.emit(sorted(old & new))

    def servers(self) -> list[core_state.ServerView]:
        return self._manager.servers()

    def get(self, server_id: str) -> core_state.ServerView | None:
        try:
            return self._manager.get(server_id)
        except McpAuthError:
            return None

    def storage_description(self) -> str:
        """Where secrets are kept, in full (the home folder written as ``~``)."""
        try:
            location = self._manager.storage_location
        except McpAuthError as exc:
            return exc.user_message
        text = location.describe()
        if location.vault_path:
            text = text.replace(location.vault_path, _home_relative(location.vault_path))
        return text

    def vault_folder(self) -> Path | None:
        """The folder holding the vault (None when secrets are kept in memory only)."""
        try:
            path = self._manager.storage_location.vault_path
        except McpAuthError:
            return None
        return Path(path).parent if path else None

    def storage_summary(self) -> str:
        """Where secrets are kept, short enough for the status bar."""
        try:
            source = self._manager.storage_location.key_source
        except McpAuthError:
            return "Secrets: unknown (see Settings)"
        return {
            "keyring": "Secrets: encrypted, key in the system keyring",
            "passphrase": "Secrets: encrypted with your passphrase",
            "memory": "Secrets: in memory only (nothing is saved)",
        }.get(source, "Secrets: encrypted")

    def is_busy(self, server_id: str) -> bool:
        return self._busy.get(server_id, 0) > 0

    @property
    def any_busy(self) -> bool:
        return bool(self._busy)

    def running(self, server_id: str, action: str) -> asyncio.Task[Any] | None:
        for task, (sid, act) in self._tasks.items():
            if sid == server_id and act == action and not task.done():
                return task
        return None

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    # ----------------------------------------------------------------- actions

    def add_server(self, request: AddServerRequest) -> asyncio.Task[core_state.ServerView | None]:
        return self._run(GLOBAL, "add", self._add(request), lambda v: f"Added {v.name}.")

    async def _add(self, request: AddServerRequest) -> core_state.ServerView:
        # The add dialog needs the kind of failure (can it offer "Add anyway"?), not only text.
        self.last_add_error = None
        try:
            return await self._manager.add_server(
                request.url,
                name=request.name,
                client_id=request.client_id,
                client_secret=request.client_secret,
                client_auth_method=request.client_auth_method,
                scopes=request.scopes,
                options=request.options,
                discover=request.discover,
            )
        except McpAuthError as exc:
            self.last_add_error = exc
            raise

    def sign_in(
        self, server_id: str, *, scopes: tuple[str, ...] = (), re_register: bool = False
    ) -> asyncio.Task[core_state.ServerView | None]:
        """Sign in; ``scopes`` adds challenged scopes (a step-up asked for by a bridge);
        ``re_register`` registers this app again first (the server forgot it)."""
        existing = self.running(server_id, "sign-in")
        if existing is not None:
            return existing

        def on_url(url: str) -> None:
            self.authorizationUrl.emit(server_id, url)
            if self._url_opener is not None:
                self._url_opener(url)

        return self._run(
            server_id,
            "sign-in",
            self._manager.sign_in(
                server_id, on_authorization_url=on_url, scopes=scopes, re_register=re_register
            ),
            lambda v: f"Signed in to {v.name}.",
        )

    def cancel(self, server_id: str, action: str) -> bool:
        task = self.running(server_id, action)
        if task is None:
            return False
        task.cancel()
        return True

    def refresh(self, server_id: str) -> asyncio.Task[core_state.ServerView | None]:
        return self._run(
            server_id,
            "refresh",
            self._manager.refresh(server_id, force=True),
            lambda v: f"Refreshed {v.name}.",
        )

    def token(self, server_id: str, *, min_ttl: float) -> asyncio.Task[str | None]:
        """The access token, refreshed first when it expires within ``min_ttl`` seconds."""
        return self._run(server_id, "copy", self._manager.get_token(server_id, min_ttl=min_ttl))

    def revoke(self, server_id: str) -> asyncio.Task[core_state.RevocationReport | None]:
        return self._run(
            server_id, "revoke", self._manager.revoke(server_id), lambda r: r.summary()
        )

    def remove(self, server_id: str) -> asyncio.Task[core_state.RevocationReport | None]:
        return self._run(
            server_id, "remove", self._manager.remove(server_id), lambda r: r.summary()
        )

    def rename(self, server_id: str, name: str) -> asyncio.Task[core_state.ServerView | None]:
        """Give the server another name (refused with the reason when another has it)."""
        old = self._label(server_id)

        async def rename() -> core_state.ServerView:
            view = await self._manager.rename(server_id, name)
            self._names[server_id] = view.name
            self._mark_dirty(server_id)  # the manager emits nothing for a rename
            return view

        return self._run(server_id, "rename", rename(), lambda v: f"Renamed {old} to {v.name}.")

    def forget_everything(self, *, revoke: bool) -> asyncio.Task[list[tuple[str, str]] | None]:
        """Remove every server (revoking first when asked), then delete the vault and its key."""
        return self._run(
            GLOBAL,
            "forget",
            self._manager.forget_everything(revoke=revoke),
            lambda outcome: f"Forgot {len(outcome)} server(s) and deleted the vault.",
        )

    def test(self, server_id: str) -> asyncio.Task[list[Tool] | None]:
        """Connect in whichever protocol era the server speaks and list its tools."""
        return self._run(
            server_id,
            "test",
            self._test(server_id),
            lambda tools: self._tested(server_id, tools),
        )

    def _tested(self, server_id: str, tools: list[Tool]) -> str:
        try:
            said = self._manager.get(server_id).mcp_server
        except McpAuthError:  # removed meanwhile: the count is still true
            said = None
        how = f" speaks {protocol_label(said)} and" if said else ""
        return f"The server{how} answered with {len(tools)} tool(s)."

    async def _test(self, server_id: str) -> list[Tool]:
        result = await self._manager.call(server_id, "tools/list", {})
        raw = result.get("tools", []) if isinstance(result, dict) else []
        tools = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict) and "name" in item:
                tools.append(
                    Tool(
                        sanitize_server_text(item["name"], 120),
                        sanitize_server_text(item.get("description") or "", 300),
                    )
                )
        return tools

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run GUI follow-up work (after an action) as a task the bridge cancels on close."""
        if self._closed:
            coro.close()
            raise RuntimeError("the bridge is closed")
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(coro)
        self._tasks[task] = (GLOBAL, "ui")
        task.add_done_callback(self._forget_task)
        return task

    async def aclose(self) -> None:
        """Cancel and await every task this bridge started; stop listening."""
        self._closed = True
        self._flush.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    # ----------------------------------------------------------------- internals

    def _run(
        self,
        server_id: str,
        action: str,
        coro: Coroutine[Any, Any, T],
        success: Callable[[T], str] | None = None,
    ) -> asyncio.Task[T | None]:
        if self._closed:
            coro.close()
            raise RuntimeError("the bridge is closed")
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(self._guard(server_id, action, coro, success))
        self._tasks[task] = (server_id, action)
        task.add_done_callback(self._forget_task)
        return task

    async def _guard(
        self,
        server_id: str,
        action: str,
        coro: Awaitable[T],
        success: Callable[[Any], str] | None,
    ) -> T | None:
        self._set_busy(server_id, +1)
        try:
            result = await coro
        except asyncio.CancelledError:
            if not self._closed:
                self.actionFailed.emit(server_id, action, f"{_ACTION_WORDS[action]} was cancelled.")
            raise
        except McpAuthError as exc:
            message = self.redactor(exc.user_message)
            hint = stale_client.gui_server_failure_hint(exc) if action in ("test", "copy") else None
            if hint:
                message += " " + hint
            self._emit_log("warning", f"{self._label(server_id)}: {action} failed: {message}")
            self.actionFailed.emit(server_id, action, message)
            return None
        except Exception:
            # A bug, not a server problem: keep the app alive, log it with the traceback.
            log.exception("%s failed unexpectedly", action)
            self.actionFailed.emit(
                server_id,
                action,
                f"{_ACTION_WORDS[action]} failed because of an internal error; see the log.",
            )
            return None
        else:
            if success is not None:
                message = self.redactor(success(result))
                self.actionSucceeded.emit(server_id, action, message)
                if action not in _LOGGED_BY_EVENTS:
                    self._emit_log("info", log_text(self._names.get(server_id), message))
            else:
                self.actionSucceeded.emit(server_id, action, "")
            return result
        finally:
            self._set_busy(server_id, -1)
            if server_id:
                self._mark_dirty(server_id)

    def _forget_task(self, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task, None)

    def _label(self, server_id: str) -> str:
        return self._names.get(server_id) or server_id or "app"

    def _set_busy(self, server_id: str, delta: int) -> None:
        before = self._busy.get(server_id, 0)
        after = max(0, before + delta)
        if after:
            self._busy[server_id] = after
        else:
            self._busy.pop(server_id, None)
        if (before > 0) != (after > 0):
            self.busyChanged.emit(server_id, after > 0)

    def _mark_dirty(self, server_id: str) -> None:
        self._dirty.add(server_id)
        if not self._flush.isActive() and not self._closed:
            self._flush.start()

    def _on_flush_timeout(self) -> None:
        dirty, self._dirty = sorted(self._dirty), set()
        if dirty:
            self.serversChanged.emit(dirty)

    def _emit_log(self, level: str, text: str, at: float | None = None) -> None:
        self.logLine.emit(at if at is not None else time.time(), level, self.redactor(text))

    def _on_manager_event(self, event: core_state.ManagerEvent) -> None:
        if self._closed:
            return
        sid = event.server_id
        if isinstance(event, core_state.ServerAdded):
            self._names[sid] = event.name
            self.serverAdded.emit(sid)
            self._emit_log("info", f"{event.name}: added", event.at)
            return
        if isinstance(event, core_state.ServerRemoved):
            name = self._names.pop(sid, event.name)
            self._dirty.discard(sid)
            self._failing.discard(sid)
            self.serverRemoved.emit(sid)
            summary = f" ({event.report.summary()})" if event.report is not None else ""
            self._emit_log("info", f"{name}: removed{summary}", event.at)
            return
        self._mark_dirty(sid)
        label = self._label(sid)
        if isinstance(event, core_state.StateChanged):
            self._emit_log("debug", f"{label}: {event.old.value} → {event.new.value}", event.at)
        elif isinstance(event, core_state.TokensRefreshed):
            self._failing.discard(sid)
            rotated = ", refresh token rotated" if event.rotated else ""
            self._emit_log("info", f"{label}: tokens refreshed{rotated}", event.at)
        elif isinstance(event, core_state.SignInNeeded):
            reason = sanitize_server_text(event.reason)
            self._emit_log("warning", f"{label}: sign-in needed: {reason}", event.at)
            self.notify.emit("sign-in", f"{label} needs you to sign in", self.redactor(reason))
        elif isinstance(event, core_state.RefreshFailed):
            reason = sanitize_server_text(event.reason)
            retry = f"; retrying in {event.retry_in:.0f} s" if event.retry_in else ""
            self._emit_log("warning", f"{label}: refresh failed: {reason}{retry}", event.at)
            # Tell the user once per outage, not at every retry.
            if sid not in self._failing:
                self._failing.add(sid)
                self.notify.emit(
                    "refresh-failed", f"Refreshing {label} failed", self.redactor(reason + retry)
                )
        elif isinstance(event, core_state.LogEvent):
            self._emit_log(event.level, log_text(self._names.get(sid), event.message), event.at)


def log_text(name: str | None, message: str) -> str:
    """A manager note as a log line: prefixed with the server's name unless the note names
    it already (no "Notes: Signed in to Notes."); never with an internal id (a server
    already removed, or the app itself)."""
    if name is None or name in message:
        return message
    return f"{name}: {message}"


_ACTION_WORDS = {
    "add": "Adding the server",
    "sign-in": "Signing in",
    "refresh": "Refreshing",
    "copy": "Copying the token",
    "revoke": "Revoking",
    "remove": "Removing the server",
    "test": "Testing the connection",
    "forget": "Forgetting everything",
    "rename": "Renaming the server",
}

#: Actions whose outcome the manager's own events already put in the log (added, signed in,
#: tokens refreshed, removed with its report): their success message goes to the status
#: bar only, so the log has one line per thing that happened.
_LOGGED_BY_EVENTS = frozenset({"add", "sign-in", "refresh", "remove"})


def _home_relative(path: str) -> str:
    """``~/…`` for a path in the user's home folder: shorter, and no user name on screen."""
    try:
        rest = Path(path).relative_to(Path.home())
    except (ValueError, RuntimeError):
        return path
    return str(Path("~") / rest)
