"""The bridge's owned tasks: each action runs as an ``asyncio.Task`` the bridge keeps.

While one runs its server is marked busy; a failure becomes ``actionFailed`` with
words the user can act on (``McpAuthError.user_message``, redacted), a success
``actionSucceeded``; everything still running is cancelled and awaited on
:meth:`TaskOwner.aclose`. :class:`~mcp_auth_desktop.gui.bridge.ManagerBridge` builds
its actions on this.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypedDict, TypeVar, Unpack

from PySide6.QtCore import QObject, QTimer, Signal

from mcp_auth_desktop.core import stale_client
from mcp_auth_desktop.core.errors import McpAuthError
from mcp_auth_desktop.gui.redact import Redactor

__all__ = ["GLOBAL", "OwnerOptions", "TaskOwner", "log_text"]

log = logging.getLogger("mcp_auth_desktop.gui.bridge")

T = TypeVar("T")

#: Key of actions not bound to one server (adding a server).
GLOBAL = ""


class OwnerOptions(TypedDict):
    """What :class:`TaskOwner` (and each layer of the bridge above it) is built with."""

    loop: asyncio.AbstractEventLoop | None
    redactor: Redactor | None
    #: How long changes are gathered before one ``serversChanged``.
    coalesce_ms: int
    parent: QObject | None


class TaskOwner(QObject):
    """Runs actions as owned tasks and reports how they ended (see the module docstring).

    Signals:
        serversChanged(list[str]): ids whose snapshot changed (coalesced).
        busyChanged(str, bool): a server (or ``""`` for global work) started/stopped work.
        actionFailed(str, str, str): server id, action, message for the user.
        actionSucceeded(str, str, str): server id, action, message for the user.
        logLine(float, str, str): time, level, redacted text for the log view.
    """

    serversChanged = Signal(list)
    busyChanged = Signal(str, bool)
    actionFailed = Signal(str, str, str)
    actionSucceeded = Signal(str, str, str)
    logLine = Signal(float, str, str)

    def __init__(self, **options: Unpack[OwnerOptions]) -> None:
        super().__init__(options["parent"])
        self._loop = options["loop"]
        self.redactor = options["redactor"] or Redactor()
        self._tasks: dict[asyncio.Task[Any], tuple[str, str]] = {}
        self._busy: dict[str, int] = {}
        self._dirty: set[str] = set()
        #: Server names by id, for log lines (kept by the bridge from the manager's events).
        self._names: dict[str, str] = {}
        self._closed = False
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(options["coalesce_ms"])
        self._flush.timeout.connect(self._on_flush_timeout)

    # ----------------------------------------------------------------- reading

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

    # ----------------------------------------------------------------- running

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

    async def _cancel_all(self) -> None:
        self._closed = True
        self._flush.stop()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

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
                self.actionFailed.emit(server_id, action, f"{ACTION_WORDS[action]} was cancelled.")
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
                f"{ACTION_WORDS[action]} failed because of an internal error; see the log.",
            )
            return None
        else:
            if success is not None:
                message = self.redactor(success(result))
                self.actionSucceeded.emit(server_id, action, message)
                if action not in LOGGED_BY_EVENTS:
                    self._emit_log("info", log_text(self._names.get(server_id), message))
            else:
                self.actionSucceeded.emit(server_id, action, "")
            return result
        finally:
            self._set_busy(server_id, -1)
            if server_id:
                self._mark_dirty(server_id)

    # ----------------------------------------------------------------- internals

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


def log_text(name: str | None, message: str) -> str:
    """A manager note as a log line: prefixed with the server's name unless the note names
    it already (no "Notes: Signed in to Notes."); never with an internal id (a server
    already removed, or the app itself)."""
    if name is None or name in message:
        return message
    return f"{name}: {message}"


ACTION_WORDS = {
    "add": "Adding the server",
    "sign-in": "Signing in",
    "refresh": "Refreshing",
    "copy": "Copying the token",
    "revoke": "Revoking",
    "remove": "Removing the server",
    "test": "Testing the connection",
    "forget": "Forgetting everything",
    "rename": "Renaming the server",
    "edit": "Saving the server's settings",
}

#: Actions whose outcome the manager's own events already put in the log (added, signed in,
#: tokens refreshed, removed with its report): their success message goes to the status
#: bar only, so the log has one line per thing that happened.
LOGGED_BY_EVENTS = frozenset({"add", "sign-in", "refresh", "remove"})
