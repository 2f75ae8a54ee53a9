"""The table model of servers: one row per server, snapshots from the bridge.

The model keeps its own list of :class:`ServerView` snapshots and replaces a
row's snapshot when the bridge says it changed, so painting never calls into
the manager. A one-second timer repaints only the "expires in" column.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QBrush, QColor

from mcp_auth_desktop.core.account_text import account_cell, account_short
from mcp_auth_desktop.core.health import summarise
from mcp_auth_desktop.core.state import ServerState, ServerView
from mcp_auth_desktop.gui.bridge import ManagerBridge
from mcp_auth_desktop.gui.icons import OverallState, status_icon
from mcp_auth_desktop.gui.plain import plain, tooltip

__all__ = ["Column", "ServerTableModel", "format_expires_in", "overall_state", "SERVER_ID_ROLE"]

SERVER_ID_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    URL = 1
    STATE = 2
    ACCOUNT = 3
    EXPIRES = 4
    SCOPES = 5
    AUTH_SERVER = 6


_HEADERS = {
    Column.NAME: "Name",
    Column.URL: "URL",
    Column.STATE: "State",
    Column.ACCOUNT: "Account",
    Column.EXPIRES: "Expires in",
    Column.SCOPES: "Scopes",
    Column.AUTH_SERVER: "Authorization server",
}

_HEADER_TIPS = {
    Column.STATE: "Where this server stands: signed in, needs sign-in, refreshing…",
    Column.ACCOUNT: "Who you are signed in as (from the ID token, userinfo, introspection or the "
                    "token itself; unverified when only the access token said so)",
    Column.EXPIRES: "Time left before the access token expires (refreshed ahead of time)",
    Column.SCOPES: "Scopes granted by the authorization server",
}

_STATE_TIPS = {
    ServerState.NEW: "Just added; discovery has not run yet.",
    ServerState.DISCOVERING: "Looking up the server's authorization metadata…",
    ServerState.NEEDS_SIGN_IN: "Never signed in: choose Sign in.",
    ServerState.SIGNING_IN: "Waiting for you to finish signing in in the browser…",
    ServerState.SIGNED_IN: "Signed in; tokens are refreshed before they expire.",
    ServerState.REFRESHING: "Refreshing the access token…",
    ServerState.SIGN_IN_NEEDED: "The sign-in expired or was revoked: choose Sign in.",
    ServerState.ERROR: "Something went wrong; see the details panel.",
    ServerState.REVOKED: "Signed out; tokens were revoked.",
    ServerState.LOCKED: ("Your tokens are still locked, so this server's state is not known yet: "
                         "it shows as soon as the vault is open."),
}


_WORKING = (ServerState.DISCOVERING, ServerState.SIGNING_IN, ServerState.REFRESHING)


def format_expires_in(expires_at: float | None, now: float) -> str:
    """Compact countdown text: ``42s``, ``12m 03s``, ``2h 05m``, ``3d 4h``, ``expired``."""
    if expires_at is None:
        return "—"
    left = int(expires_at - now)
    if left <= 0:
        return "expired"
    if left < 60:
        return f"{left}s"
    if left < 3600:
        return f"{left // 60}m {left % 60:02d}s"
    if left < 86400:
        return f"{left // 3600}h {(left % 3600) // 60:02d}m"
    return f"{left // 86400}d {(left % 86400) // 3600}h"


def overall_state(views: list[ServerView], now: float | None = None) -> OverallState:
    """Error beats attention beats all good (the rules: core/health.py)."""
    return OverallState(summarise(views, time.time() if now is None else now).health.value)


class ServerTableModel(QAbstractTableModel):
    """Servers as rows; ``SERVER_ID_ROLE`` gives a row's server id."""

    def __init__(
        self,
        bridge: ManagerBridge,
        *,
        clock: Callable[[], float] | None = None,
        tick_ms: int = 1000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._clock: Callable[[], float] = clock or (lambda: time.time())
        self._rows: list[ServerView] = list(bridge.servers())
        self._row_of: dict[str, int] = {v.id: i for i, v in enumerate(self._rows)}
        self._icons = {s: status_icon(s.value) for s in OverallState}
        self._busy_icon = status_icon("busy")
        #: Connected `mcp-auth bridge` processes per server id (from BridgeCounter).
        self._bridges: dict[str, int] = {}
        bridge.serversChanged.connect(self.on_servers_changed)
        bridge.serverAdded.connect(self.on_server_added)
        bridge.serverRemoved.connect(self.on_server_removed)
        bridge.busyChanged.connect(self.on_busy_changed)
        self._tick = QTimer(self)
        self._tick.setInterval(tick_ms)
        self._tick.timeout.connect(self.on_tick_timeout)
        self._tick.start()

    # --- lookups -------------------------------------------------------------

    def views(self) -> list[ServerView]:
        return list(self._rows)

    def view_at(self, row: int) -> ServerView | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, server_id: str) -> int:
        return self._row_of.get(server_id, -1)

    # --- Qt model API ----------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(Column)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(Column(section))
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        view = self.view_at(index.row()) if index.isValid() else None
        if view is None:
            return None
        col = Column(index.column())
        if role == SERVER_ID_ROLE:
            return view.id
        if role == Qt.ItemDataRole.DisplayRole:
            return plain(self._display(view, col), multiline=False)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = self._tooltip(view, col)
            return None if tip is None else tooltip(tip)
        if role == Qt.ItemDataRole.DecorationRole and col == Column.STATE:
            if self._bridge.is_busy(view.id) or view.state in _WORKING:
                return self._busy_icon
            return self._icons[overall_state([view], self._clock())]
        if role == Qt.ItemDataRole.ForegroundRole and col == Column.EXPIRES:
            if view.expires_at is not None and view.expires_at - self._clock() <= 0:
                return QBrush(QColor("#d93636"))
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{_HEADERS[col]}: {self._display(view, col)}"
        return None

    def _display(self, view: ServerView, col: Column) -> str:
        if col == Column.NAME:
            return view.name
        if col == Column.URL:
            return view.url
        if col == Column.STATE:
            if view.state is ServerState.LOCKED:
                return view.locked_because or "locked"
            text: str = view.state.value
            if self._bridge.is_busy(view.id) and view.state not in (
                ServerState.REFRESHING,
                ServerState.SIGNING_IN,
                ServerState.DISCOVERING,
            ):
                text += " · working…"
            bridges = self._bridges.get(view.id, 0)
            if bridges:
                text += f" · {bridges} bridge{'s' if bridges != 1 else ''}"
            return text
        if col == Column.ACCOUNT:
            return account_short(view)
        if col == Column.EXPIRES:
            if view.state.signed_in:
                return format_expires_in(view.expires_at, self._clock())
            return "—"
        if col == Column.SCOPES:
            return " ".join(view.granted_scopes or view.requested_scopes)
        return view.issuer or "—"

    def _tooltip(self, view: ServerView, col: Column) -> str | None:
        if col == Column.STATE:
            tip = _STATE_TIPS.get(view.state, "")
            if view.last_error:
                tip += f"\nLast error: {view.last_error}"
            bridges = self._bridges.get(view.id, 0)
            if bridges:
                tip += (f"\n{bridges} `mcp-auth bridge` process{'es' if bridges != 1 else ''} "
                        "use this server's tokens now.")
            return tip
        if col == Column.ACCOUNT:
            return "Signed in as " + account_cell(view, none="nobody (not signed in)")
        if col == Column.EXPIRES and view.expires_at is not None:
            return "Expires at " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(view.expires_at))
        return self._display(view, col)

    # --- updates -------------------------------------------------------------

    def on_servers_changed(self, ids: list[str]) -> None:
        rows: list[int] = []
        for sid in ids:
            row = self._row_of.get(sid)
            fresh = self._bridge.get(sid)
            if row is None or fresh is None:
                continue
            self._rows[row] = fresh
            rows.append(row)
        if rows:
            # One signal for the span: cheap when hundreds change at once.
            self.dataChanged.emit(
                self.index(min(rows), 0), self.index(max(rows), len(Column) - 1)
            )

    def on_server_added(self, server_id: str) -> None:
        if server_id in self._row_of:
            return
        view = self._bridge.get(server_id)
        if view is None:
            return
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(view)
        self._row_of[server_id] = row
        self.endInsertRows()

    def on_server_removed(self, server_id: str) -> None:
        row = self._row_of.get(server_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._row_of = {v.id: i for i, v in enumerate(self._rows)}
        self.endRemoveRows()

    def on_busy_changed(self, server_id: str, busy: bool) -> None:
        row = self._row_of.get(server_id)
        if row is not None:
            idx = self.index(row, Column.STATE)
            self.dataChanged.emit(idx, idx)

    def set_bridge_counts(self, counts: dict[str, int]) -> None:
        changed = {sid for sid in set(counts) | set(self._bridges)
                   if counts.get(sid, 0) != self._bridges.get(sid, 0)}
        self._bridges = dict(counts)
        for sid in changed:
            row = self._row_of.get(sid)
            if row is not None:
                idx = self.index(row, Column.STATE)
                self.dataChanged.emit(idx, idx)

    def bridge_count(self, server_id: str) -> int:
        return self._bridges.get(server_id, 0)

    def on_tick_timeout(self) -> None:
        if self._rows:
            self.dataChanged.emit(
                self.index(0, Column.EXPIRES),
                self.index(len(self._rows) - 1, Column.EXPIRES),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole],
            )

    def stop(self) -> None:
        self._tick.stop()

