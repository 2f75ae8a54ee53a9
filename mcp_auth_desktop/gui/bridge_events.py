"""The manager's events as Qt signals and log lines (the receiving half of the bridge).

Manager events arrive on the loop thread (qasync runs asyncio on the Qt thread).
Rows appear and go at once; every other change only marks its server dirty, and the
dirty set is flushed as one ``serversChanged`` (coalesced: a refresh storm of
hundreds of servers costs one repaint). The user is told once per outage, not at
every retry.
"""

from __future__ import annotations

from typing import Unpack

from PySide6.QtCore import Signal

from mcp_auth_desktop.core import state as core_state
from mcp_auth_desktop.core.errors import sanitize_server_text
from mcp_auth_desktop.gui.bridge_tasks import OwnerOptions, TaskOwner, log_text

__all__ = ["EventRelay"]


class EventRelay(TaskOwner):
    """Signals (besides :class:`TaskOwner`'s):
        serverAdded(str), serverRemoved(str): rows appear or go.
        notify(str, str, str): kind (``sign-in`` / ``refresh-failed``), title, text.
    """

    serverAdded = Signal(str)
    serverRemoved = Signal(str)
    notify = Signal(str, str, str)

    def __init__(self, **options: Unpack[OwnerOptions]) -> None:
        super().__init__(**options)
        #: Servers whose refresh is failing (told once; forgotten at the next success).
        self._failing: set[str] = set()

    def _on_manager_event(self, event: core_state.ManagerEvent) -> None:
        # Here, not at the top: the first frame loads this module before any event can
        # come, and the events' dataclasses cost time to create (core/events.py).
        from mcp_auth_desktop.core import events

        if self._closed:
            return
        sid = event.server_id
        if isinstance(event, events.ServerAdded):
            self._names[sid] = event.name
            self.serverAdded.emit(sid)
            self._emit_log("info", f"{event.name}: added", event.at)
            return
        if isinstance(event, events.ServerRemoved):
            name = self._names.pop(sid, event.name)
            self._dirty.discard(sid)
            self._failing.discard(sid)
            self.serverRemoved.emit(sid)
            summary = f" ({event.report.summary()})" if event.report is not None else ""
            self._emit_log("info", f"{name}: removed{summary}", event.at)
            return
        self._mark_dirty(sid)
        label = self._label(sid)
        if isinstance(event, events.StateChanged):
            self._emit_log("debug", f"{label}: {event.old.value} → {event.new.value}", event.at)
        elif isinstance(event, events.TokensRefreshed):
            self._failing.discard(sid)
            rotated = ", refresh token rotated" if event.rotated else ""
            self._emit_log("info", f"{label}: tokens refreshed{rotated}", event.at)
        elif isinstance(event, events.SignInNeeded):
            reason = sanitize_server_text(event.reason)
            self._emit_log("warning", f"{label}: sign-in needed: {reason}", event.at)
            self.notify.emit("sign-in", f"{label} needs you to sign in", self.redactor(reason))
        elif isinstance(event, events.RefreshFailed):
            reason = sanitize_server_text(event.reason)
            retry = f"; retrying in {event.retry_in:.0f} s" if event.retry_in else ""
            self._emit_log("warning", f"{label}: refresh failed: {reason}{retry}", event.at)
            # Tell the user once per outage, not at every retry.
            if sid not in self._failing:
                self._failing.add(sid)
                self.notify.emit(
                    "refresh-failed", f"Refreshing {label} failed", self.redactor(reason + retry)
                )
        elif isinstance(event, events.LogEvent):
            self._emit_log(event.level, log_text(self._names.get(sid), event.message), event.at)
