"""The one seam between the token manager (asyncio) and the widgets (Qt).

Widgets never see the manager. They read :class:`ServerView` snapshots from
the bridge, listen to its signals, and start actions with its methods, each
of which returns an ``asyncio.Task`` the bridge owns (``bridge_tasks.py``: busy
while it runs, a failure in words the user can act on, everything cancelled on
:meth:`aclose`). The manager's events become signals in ``bridge_events.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from mcp_auth_desktop.core import state as core_state
from mcp_auth_desktop.core.errors import EditConflictError, McpAuthError, sanitize_server_text
from mcp_auth_desktop.core.mcp.display import protocol_label
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.core.ports import ManagerLike
from mcp_auth_desktop.gui.bridge_events import EventRelay
from mcp_auth_desktop.gui.bridge_tasks import GLOBAL, log_text
from mcp_auth_desktop.gui.redact import Redactor

if TYPE_CHECKING:
    # Annotations only: the first frame loads this module and edits nothing (start-up cost).
    from mcp_auth_desktop.core.server_edit import EditOutcome, ServerEdit

__all__ = ["ManagerBridge", "AddServerRequest", "Tool", "GLOBAL", "log_text"]


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


class ManagerBridge(EventRelay):
    """Turns manager events into Qt signals and runs manager actions as owned tasks.

    Signals (the rest in ``bridge_tasks.py`` and ``bridge_events.py``):
        authorizationUrl(str, str): server id, the URL the user must open to sign in.
        deviceCode(str, DeviceAuthorization): server id, where to go and the code to enter
            there (a sign-in with a code, RFC 8628; server-supplied: show it as plain text).
        devicePolling(str, int, float): server id, how many times the server was asked so
            far, and the seconds until it is asked again.
    """

    authorizationUrl = Signal(str, str)
    deviceCode = Signal(str, object)
    devicePolling = Signal(str, int, float)

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
        super().__init__(loop=loop, redactor=redactor, coalesce_ms=coalesce_ms, parent=parent)
        self._manager = manager
        self._url_opener = url_opener
        #: Why the last add failed (None after a success), for the add dialog.
        self.last_add_error: McpAuthError | None = None
        #: Per server, why its last edit was refused when fields were changed elsewhere too.
        self.edit_conflicts: dict[str, EditConflictError] = {}
        self._unsubscribe: Callable[[], None] | None = None

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

    def sign_in_with_code(self, server_id: str) -> asyncio.Task[core_state.ServerView | None]:
        """Sign in with the device authorization grant (RFC 8628): approved in a browser on any
        device, for when this machine's browser is not the user's (a remote desktop).

        A sign-in like any other for the manager (a ``DeviceSignIn`` as the sign-in's
        ``on_authorization_url``, core/device_signin.py); Cancel (:meth:`cancel` with
        ``"sign-in"``) ends the task, and with it the polling.
        """
        existing = self.running(server_id, "sign-in")
        if existing is not None:
            return existing
        # Here, not at the top: the device grant's modules are not part of the first frame.
        from mcp_auth_desktop.core.device_signin import DeviceSignIn

        polls = 0

        async def sleep(seconds: float) -> None:
            nonlocal polls
            self.devicePolling.emit(server_id, polls, seconds)
            await asyncio.sleep(seconds)
            polls += 1  # each wait is followed by one question to the token endpoint

        how = DeviceSignIn(lambda auth: self.deviceCode.emit(server_id, auth), sleep=sleep)
        return self._run(
            server_id, "sign-in", self._manager.sign_in(server_id, on_authorization_url=how),
            lambda v: f"Signed in to {v.name}.",
        )

    def open_url(self, url: str) -> None:
        """Open ``url`` the way sign-in links are opened (the system browser)."""
        if self._url_opener is not None:
            self._url_opener(url)

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

    def server_config(self, server_id: str) -> ServerConfig | None:
        """The server's stored settings (no secret in them), to pre-fill the edit dialog."""
        try:
            return self._manager.server_config(server_id)
        except McpAuthError:
            return None

    async def has_client_secret(self, server_id: str) -> bool | None:
        """Whether a client secret is stored (None: cannot tell yet); its value never leaves."""
        try:
            return await self._manager.has_client_secret(server_id)
        except McpAuthError:
            return None

    def edit(self, server_id: str, edit: ServerEdit) -> asyncio.Task[EditOutcome | None]:
        """Save a server's edited settings; the success message says what the change means."""
        return self._run(server_id, "edit", self._edit(server_id, edit),
                         lambda outcome: outcome.message)

    async def _edit(self, server_id: str, edit: ServerEdit) -> EditOutcome:
        # The edit dialog needs the conflicting fields and their new values, not only words.
        self.edit_conflicts.pop(server_id, None)
        try:
            return await self._manager.edit_server(server_id, edit)
        except EditConflictError as exc:
            self.edit_conflicts[server_id] = exc
            raise

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

    async def aclose(self) -> None:
        """Cancel and await every task this bridge started; stop listening."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._cancel_all()


def _home_relative(path: str) -> str:
    """``~/…`` for a path in the user's home folder: shorter, and no user name on screen."""
    try:
        rest = Path(path).relative_to(Path.home())
    except (ValueError, RuntimeError):
        return path
    return str(Path("~") / rest)
