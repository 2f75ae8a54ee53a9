"""The main window: the server table, the details panel, the event log.

Buttons act on the selected server through :class:`ServerActions`; the
window never awaits anything itself. Dialogs are opened with ``open()`` so
the asyncio loop keeps running while they are up. The window is assembled
from parts (see ``window_host``): its actions and menus (``window_actions``),
what the per-server commands do (``window_commands``) and its dialogs
(``window_dialogs``); this module lays it out and follows the selection.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QWidget,
)

from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.gui.actions import ServerActions
from mcp_auth_desktop.gui.bridge import ManagerBridge
from mcp_auth_desktop.gui.bridge_count import BridgeCounter
from mcp_auth_desktop.gui.details import DetailsPanel
from mcp_auth_desktop.gui.icons import app_icon
from mcp_auth_desktop.gui.log_view import LogView
from mcp_auth_desktop.gui.plain import message_box, plain, set_box_text
from mcp_auth_desktop.gui.preferences import Preferences
from mcp_auth_desktop.gui.server_model import SERVER_ID_ROLE, Column, ServerTableModel
from mcp_auth_desktop.gui.window_actions import WindowActionsMixin
from mcp_auth_desktop.gui.window_commands import ServerCommandsMixin
from mcp_auth_desktop.gui.window_dialogs import WindowDialogsMixin
from mcp_auth_desktop.gui.window_layout import WindowLayout

if TYPE_CHECKING:
    from mcp_auth_desktop.core.revocation_text import RevocationReport

    # The dialogs load when first opened, not before the first frame (bench/bench_gui.py).
    from mcp_auth_desktop.gui.about_dialog import AboutDialog
    from mcp_auth_desktop.gui.add_dialog import AddServerDialog
    from mcp_auth_desktop.gui.device_dialog import DeviceSignInDialog
    from mcp_auth_desktop.gui.edit_dialog import EditServerDialog
    from mcp_auth_desktop.gui.settings_dialog import SettingsDialog

__all__ = ["MainWindow"]


class MainWindow(WindowActionsMixin, ServerCommandsMixin, WindowDialogsMixin, QMainWindow):
    """Signals: settingsSubmitted(GuiSettings) — the app saves and applies them."""

    settingsSubmitted = Signal(object)

    def __init__(
        self,
        bridge: ManagerBridge,
        actions: ServerActions,
        preferences: Preferences,
        *,
        keep_running_in_tray: Callable[[], bool] = lambda: False,
        on_quit: Callable[[], None] = lambda: None,
        layout_file: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.server_actions = actions
        self.preferences = preferences
        self._keep_in_tray = keep_running_in_tray
        self._on_quit = on_quit
        self.setWindowTitle("MCP Auth Desktop")
        self.setWindowIcon(app_icon())
        self.resize(1180, 720)

        self.model = ServerTableModel(bridge, parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.setAccessibleName("Servers")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # Room left for the last column (the authorization server, often longer than the URL).
        for col, width in ((Column.NAME, 150), (Column.URL, 185), (Column.STATE, 120), (Column.ACCOUNT, 150),
                           (Column.EXPIRES, 85), (Column.SCOPES, 130)):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(self._on_table_double_clicked)

        self.details = DetailsPanel()
        self.log_view = LogView()
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.table)
        top.addWidget(self.details)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([860, 380])
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(top)
        outer.addWidget(self.log_view)
        outer.setStretchFactor(0, 4)
        outer.setStretchFactor(1, 1)
        outer.setSizes([560, 140])
        self.setCentralWidget(outer)
        self._splitters = [top, outer]

        self._build_actions()
        self._build_status_bar()
        self.window_layout = WindowLayout(layout_file) if layout_file is not None else None
        if self.window_layout is not None:
            self.window_layout.restore(self, self.table.horizontalHeader(), self._splitters)

        bridge.serversChanged.connect(self._on_servers_changed)
        bridge.serverAdded.connect(self._on_server_added)
        bridge.serverRemoved.connect(self._on_server_removed)
        bridge.busyChanged.connect(self._on_busy_changed)
        bridge.actionFailed.connect(self.on_action_failed)
        bridge.actionSucceeded.connect(self._on_action_succeeded)
        bridge.logLine.connect(self.log_view.on_log_line)
        bridge.authorizationUrl.connect(self.details.set_authorization_url)
        actions.message.connect(self.show_message)
        self.details.editRequested.connect(self.edit_selected)
        actions.toolsListed.connect(self._on_tools_listed)
        self.bridge_counter = BridgeCounter(parent=self)
        self.bridge_counter.countsChanged.connect(self.model.set_bridge_counts)
        self.bridge_counter.countsChanged.connect(self.details.set_bridge_counts)
        self.bridge_counter.start()

        self.add_dialog: AddServerDialog | None = None
        self.edit_dialog: EditServerDialog | None = None
        self.device_dialog: DeviceSignInDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.report_box: QMessageBox | None = None
        self.rename_dialog: QInputDialog | None = None
        self.about_dialog: AboutDialog | None = None
        #: Opens a folder in the file manager (replaced in tests).
        self.open_folder: Callable[[Path], object] | None = None
        self.error_box: QMessageBox | None = None
        self.last_report: RevocationReport | None = None
        self._last_failure: dict[str, str] = {}
        self._update_actions()
        if self.model.rowCount():
            self.table.selectRow(0)

    # --- selection -----------------------------------------------------------------

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        value = self.model.data(rows[0], SERVER_ID_ROLE)
        return value if isinstance(value, str) else None

    def selected_view(self) -> ServerView | None:
        row = self.model.row_of(self.selected_id() or "")
        return self.model.view_at(row)

    def select_server(self, server_id: str) -> None:
        row = self.model.row_of(server_id)
        if row >= 0:
            self.table.selectRow(row)

    def _on_selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        self.details.show_view(self.selected_view())
        self._update_actions()

    def _on_servers_changed(self, ids: list[str]) -> None:
        sid = self.selected_id()
        if sid is not None and sid in ids:
            self.details.show_view(self.selected_view())
            self._update_actions()

    def _on_server_added(self, server_id: str) -> None:
        if self.selected_id() is None:
            self.select_server(server_id)

    def _on_server_removed(self, server_id: str) -> None:
        self.details.forget(server_id)
        if self.selected_id() is None and self.model.rowCount():
            self.table.selectRow(0)
        self._update_actions()

    def _on_busy_changed(self, server_id: str, _busy: bool) -> None:
        self.busy.setVisible(self.bridge.any_busy)
        if server_id == self.selected_id():
            self._update_actions()

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        view = self.model.view_at(index.row())
        if view is not None and view.state.needs_attention:
            self.server_actions.sign_in(view.id)

    # --- feedback -------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(plain(text, multiline=False), 10000)

    def on_action_failed(self, server_id: str, action: str, message: str) -> None:
        self._last_failure[server_id] = message
        view = self.bridge.get(server_id) if server_id else None
        prefix = f"{view.name}: " if view else ""
        self.show_message(prefix + message)
        if action == "add" and self.add_dialog is not None:
            return  # the dialog shows it
        if action == "edit" and self.edit_dialog is not None and self.edit_dialog.config.id == server_id:
            return  # the dialog shows it
        if action == "sign-in" and self.device_dialog is not None and self.device_dialog.server_id == server_id:
            return  # the sign-in-with-a-code dialog shows it
        self.show_error("Something did not work", prefix + message)

    def show_error(self, title: str, text: str) -> QMessageBox:
        """One non-modal error box, reused so a burst of failures does not stack windows."""
        box = self.error_box
        if box is None:
            box = message_box(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
            box.setWindowModality(Qt.WindowModality.NonModal)
            box.finished.connect(self._on_error_box_finished)
            self.error_box = box
            box.show()  # non-modal; open() would make it window-modal
        else:
            box.setWindowTitle(plain(title, multiline=False))
            set_box_text(box, text)
        return box

    def _on_error_box_finished(self, _result: int) -> None:
        box, self.error_box = self.error_box, None
        if box is not None:
            box.deleteLater()

    def _on_action_succeeded(self, server_id: str, action: str, message: str) -> None:
        if message and action != "remove":
            self.show_message(message)
        self._update_actions()

    def bring_to_front(self) -> None:
        self.show()
        self.setWindowState((self.windowState() & ~Qt.WindowState.WindowMinimized)
                            | Qt.WindowState.WindowActive)
        self.raise_()
        self.activateWindow()

    def save_layout(self) -> None:
        """Remember the size, splitters and column widths (when a layout file was given)."""
        if self.window_layout is not None:
            self.window_layout.save(self, self.table.horizontalHeader(), self._splitters)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        if self._keep_in_tray():
            event.ignore()
            self.hide()
            return
        event.accept()
        self._on_quit()
