"""The tray icon: overall state at a glance, per-server actions one click away.

The menu is rebuilt from the bridge's current snapshots each time it is
about to show, so it can never list a server that is gone or miss a new one.

The icon is the first thing the app shows (``gui/app.py``): it is made and shown
right after the QApplication, from this module and ``icons`` alone, saying
"starting"; :meth:`TrayIcon.attach` then hands it the bridge once the window's
parts are loaded. So this module imports nothing else of the app at its top, and
not PySide6's ``Qt`` namespace either (making it costs some 20 ms: its ~90 enums are
built on first use).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from mcp_auth_desktop.gui.icons import OverallState, icon, state_icon, status_icon

if TYPE_CHECKING:
    from mcp_auth_desktop.core.state import ServerView
    from mcp_auth_desktop.gui.actions import ServerActions
    from mcp_auth_desktop.gui.bridge import ManagerBridge
    from mcp_auth_desktop.gui.preferences import Preferences

__all__ = ["TrayIcon", "STARTING_TOOLTIP"]

log = logging.getLogger(__name__)

#: Findings listed in the tooltip before "and N more" (tooltips have no scroll bar).
_TOOLTIP_FINDINGS = 6

#: What the tray says until it has the servers' state (never "all fine" before it knows).
STARTING_TOOLTIP = "MCP Auth Desktop — starting…"


class TrayIcon(QSystemTrayIcon):
    """System tray entry. ``on_open`` shows the window, ``on_quit`` asks the app to quit.

    Made without the bridge it shows "starting" (the attention icon: nothing is known
    yet) with Open window and Quit until :meth:`attach`; the app's event loop does not
    run before then, so no click can arrive in between.
    """

    def __init__(
        self,
        bridge: ManagerBridge | None = None,
        actions: ServerActions | None = None,
        preferences: Preferences | None = None,
        *,
        on_open: Callable[[], None] = lambda: None,
        on_quit: Callable[[], None] = lambda: None,
        clock: Callable[[], float] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge: ManagerBridge | None = None
        self._actions: ServerActions | None = None
        self._prefs: Preferences | None = None
        self._on_open = on_open
        self._on_quit = on_quit
        self._clock = clock or time.time
        self._icons = {s: state_icon(s) for s in OverallState}
        self._dots = {s: status_icon(s.value) for s in OverallState}
        self.state = OverallState.ATTENTION
        self.menu = QMenu()
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.setContextMenu(self.menu)
        self.activated.connect(self._on_activated)
        self.notifications_shown: list[tuple[str, str]] = []
        self.tooltip_text = STARTING_TOOLTIP
        self.setIcon(self._icons[self.state])
        self.setToolTip(self.tooltip_text)
        # Time alone changes the truth (an access token expires with no event): re-check.
        self._tick = QTimer(self)
        self._tick.setInterval(2000)
        self._tick.timeout.connect(self.update_state)
        # The server entries are built when the menu opens (and by the app once the
        # manager has taken over from the settings preview), not here: a submenu per
        # server would hold back the first frame, and the preview's rows are replaced anyway.
        self._add_fixed_items()
        if bridge is not None and actions is not None and preferences is not None:
            self.attach(bridge, actions, preferences)

    def attach(self, bridge: ManagerBridge, actions: ServerActions, preferences: Preferences, *,
               on_open: Callable[[], None] | None = None,
               on_quit: Callable[[], None] | None = None) -> None:
        """Follow ``bridge`` from now on: the servers' state, their menus, notifications."""
        self._bridge, self._actions, self._prefs = bridge, actions, preferences
        if on_open is not None:
            self._on_open = on_open
        if on_quit is not None:
            self._on_quit = on_quit
        bridge.serversChanged.connect(self.update_state)
        bridge.serverAdded.connect(self.update_state)
        bridge.serverRemoved.connect(self.update_state)
        bridge.notify.connect(self.on_notify)
        self._tick.start()
        self.update_state()

    # --- state icon ------------------------------------------------------------

    def update_state(self, *_: object) -> None:
        if self._bridge is None:
            return  # still "starting" (attach() comes with the window's parts)
        from mcp_auth_desktop.core.health import summarise
        from mcp_auth_desktop.gui.plain import plain

        views = self._bridge.servers()
        summary = summarise(views, self._clock())
        state = OverallState(summary.health.value)
        self.state = state
        self.setIcon(self._icons[state])
        signed = sum(v.state.signed_in for v in views)
        lines = [f"MCP Auth Desktop — {summary.headline}"]
        shown = summary.lines()
        lines += shown[:_TOOLTIP_FINDINGS]
        if len(shown) > _TOOLTIP_FINDINGS:
            lines.append(f"and {len(shown) - _TOOLTIP_FINDINGS} more (open the window)")
        lines.append(f"{signed} of {len(views)} server(s) signed in")
        # Server names and errors are server-supplied text: plain in every sink.
        self.tooltip_text = "\n".join(lines)
        self.setToolTip(plain(self.tooltip_text))

    # --- menu ------------------------------------------------------------------

    def rebuild_menu(self) -> None:
        from PySide6.QtCore import Qt

        # clear() drops the submenus' entries but not the submenus (children of the menu):
        # delete them, or every opening of the menu would keep a QMenu per server.
        for sub in self.menu.findChildren(QMenu, options=Qt.FindChildOption.FindDirectChildrenOnly):
            sub.deleteLater()
        self.menu.clear()
        if self._bridge is None:
            self._add_fixed_items()  # "starting": the servers are not loaded yet
            return
        views = sorted(self._bridge.servers(), key=lambda v: v.name.lower())
        if not views:
            none = self.menu.addAction("No servers yet")
            none.setEnabled(False)
        for view in views:
            self._add_server_menu(view)
        self._add_fixed_items()

    def _add_fixed_items(self) -> None:
        self.menu.addSeparator()
        open_action = self.menu.addAction(icon("window"), "Open window")
        open_action.triggered.connect(self._on_open)
        quit_action = self.menu.addAction(icon("quit"), "Quit")
        quit_action.triggered.connect(self._on_quit)

    def _add_server_menu(self, view: ServerView) -> None:
        from mcp_auth_desktop.core.state import ServerState
        from mcp_auth_desktop.gui.server_model import format_expires_in, overall_state

        assert self._bridge is not None and self._actions is not None
        actions = self._actions
        sub = self.menu.addMenu(self._dots[overall_state([view], self._clock())], view.name)
        sub.setToolTipsVisible(True)
        sid = view.id
        signed_in = view.state.signed_in
        busy = self._bridge.is_busy(sid)

        copy = sub.addAction(icon("copy"), "Copy access token")
        copy.setEnabled(signed_in)
        copy.setToolTip("Refreshes first if the token is about to expire")
        copy.triggered.connect(lambda _=False, s=sid: actions.copy_token(s))

        refresh = sub.addAction(icon("refresh"), "Refresh now")
        refresh.setEnabled(signed_in and view.has_refresh_token and not busy)
        refresh.triggered.connect(lambda _=False, s=sid: actions.refresh(s))

        if signed_in:
            auth = sub.addAction(icon("sign-out"), "Sign out")
            auth.setToolTip("Revokes the tokens at the server")
            auth.triggered.connect(lambda _=False, s=sid: actions.sign_out(s))
        else:
            auth = sub.addAction(icon("sign-in"), "Sign in")
            auth.setEnabled(view.state not in (ServerState.SIGNING_IN, ServerState.LOCKED))
            auth.triggered.connect(lambda _=False, s=sid: actions.sign_in(s))

        sub.addSeparator()
        line = view.locked_because or view.state.value
        if signed_in and view.expires_at is not None:
            line += f" · expires in {format_expires_in(view.expires_at, self._clock())}"
        if busy:
            line += " · working…"
        state_line = sub.addAction(line)
        state_line.setEnabled(False)

    def server_actions(self, name: str) -> dict[str, QAction]:
        """The actions of one server's submenu, by text (for tests and scripting)."""
        for action in self.menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu) and action.text() == name:
                return {a.text(): a for a in sub.actions() if not a.isSeparator()}
        raise KeyError(name)

    def server_names(self) -> list[str]:
        return [a.text() for a in self.menu.actions() if a.menu() is not None]

    # --- notifications -----------------------------------------------------------

    def on_notify(self, kind: str, title: str, text: str) -> None:
        from mcp_auth_desktop.gui.plain import notification, plain

        if self._prefs is None or not self._prefs.current.notifications:
            return
        self.notifications_shown.append((title, text))
        if self.isVisible() and self.supportsMessages():
            icon_kind = (
                QSystemTrayIcon.MessageIcon.Warning
                if kind == "refresh-failed"
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.showMessage(plain(title, multiline=False), notification(text), icon_kind, 8000)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._on_open()

    def current_icon(self) -> QIcon:
        return self._icons[self.state]
