"""The main window: the server table, the details panel, the event log.

Buttons act on the selected server through :class:`ServerActions`; the
window never awaits anything itself. Dialogs are opened with ``open()`` so
the asyncio loop keeps running while they are up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QTableView,
    QToolBar,
    QWidget,
)

from mcp_auth_desktop.core.errors import ConfigurationError, DuplicateServerError
from mcp_auth_desktop.core.stale_client import RE_REGISTER_ACTION
from mcp_auth_desktop.core.state import RevocationReport, ServerState, ServerView
from mcp_auth_desktop.gui.about_dialog import AboutDialog
from mcp_auth_desktop.gui.actions import ServerActions
from mcp_auth_desktop.gui.bridge import AddServerRequest, ManagerBridge, Tool
from mcp_auth_desktop.gui.bridge_count import BridgeCounter
from mcp_auth_desktop.gui.details import DetailsPanel
from mcp_auth_desktop.gui.icons import app_icon, icon
from mcp_auth_desktop.gui.log_view import LogView
from mcp_auth_desktop.gui.plain import (
    message_box,
    plain,
    set_box_informative,
    set_box_text,
    set_plain,
    tooltip,
)
from mcp_auth_desktop.gui.preferences import GuiSettings, Preferences
from mcp_auth_desktop.gui.row_menu import RowMenu
from mcp_auth_desktop.gui.server_model import SERVER_ID_ROLE, Column, ServerTableModel
from mcp_auth_desktop.gui.use_in import UseInMenus
from mcp_auth_desktop.gui.window_layout import WindowLayout

if TYPE_CHECKING:
    # The dialogs load when first opened, not before the first frame (bench/bench_gui.py).
    from mcp_auth_desktop.gui.add_dialog import AddServerDialog
    from mcp_auth_desktop.gui.settings_dialog import SettingsDialog

__all__ = ["MainWindow"]

_SIGNED_IN = (ServerState.SIGNED_IN, ServerState.REFRESHING)


class MainWindow(QMainWindow):
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
        actions.toolsListed.connect(self._on_tools_listed)
        self.bridge_counter = BridgeCounter(parent=self)
        self.bridge_counter.countsChanged.connect(self.model.set_bridge_counts)
        self.bridge_counter.countsChanged.connect(self.details.set_bridge_counts)
        self.bridge_counter.start()

        self.add_dialog: AddServerDialog | None = None
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

    # --- construction --------------------------------------------------------------

    def _action(self, name: str, text: str, tip: str,
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None,
                slot: Callable[[], object]) -> QAction:
        action = QAction(icon(name), text, self)
        seq = QKeySequence(shortcut) if shortcut else QKeySequence()
        keys = seq.toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        if keys:
            action.setShortcut(seq)
        action.triggered.connect(lambda _=False: slot())
        return action

    def _build_actions(self) -> None:
        self.act_add = self._action("add", "&Add server…", "Add an MCP server",
                                    QKeySequence.StandardKey.New, self.open_add_dialog)
        self.act_sign_in = self._action("sign-in", "&Sign in", "Sign in to the selected server in your browser",
                                        "Ctrl+I", self.sign_in_selected)
        self.act_re_register = self._action(
            "sign-in", RE_REGISTER_ACTION,
            "Register this app again at the authorization server, then sign in (when the "
            "browser shows an error about the client, e.g. after the server restarted)",
            None, self.re_register_selected)
        self.act_refresh = self._action("refresh", "&Refresh", "Refresh the selected server's access token now",
                                        QKeySequence.StandardKey.Refresh, self.refresh_selected)
        self.act_copy = self._action("copy", "&Copy token", "Copy the access token (refreshed first if about to expire)",
                                     "Ctrl+Shift+C", self.copy_selected)
        self.act_test = self._action("test", "&Test", "Connect to the server and list its tools",
                                     "Ctrl+T", self.test_selected)
        self.act_revoke = self._action("revoke", "Re&voke", "Revoke the tokens at the server (sign out)",
                                       "Ctrl+Shift+R", self.revoke_selected)
        self.act_remove = self._action("remove", "Re&move…", "Revoke, then forget the selected server",
                                       QKeySequence.StandardKey.Delete, self.remove_selected)
        self.act_rename = self._action("rename", "Re&name…", "Give the selected server another name",
                                       "F2", self.rename_selected)
        self.act_settings = self._action("settings", "Se&ttings…", "Clipboard, refresh, start-at-login, notifications",
                                         "Ctrl+,", self.open_settings)
        self.act_forget = self._action("remove", "&Forget everything…",
                                       "Remove every server and delete the vault and its keyring key",
                                       None, self.forget_everything)
        self.act_about = self._action("window", "A&bout…", "Version, licences, where secrets are kept",
                                      "F1", self.open_about)
        self.act_quit = self._action("quit", "&Quit", "Quit MCP Auth Desktop (stops background refresh)",
                                     QKeySequence.StandardKey.Quit, self._on_quit)
        self.server_action_list = [self.act_sign_in, self.act_refresh, self.act_copy, self.act_test,
                                   self.act_revoke, self.act_remove]
        toolbar = QToolBar("Actions")
        toolbar.setObjectName("actions")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setMovable(False)
        toolbar.addAction(self.act_add)
        toolbar.addSeparator()
        for a in self.server_action_list:
            toolbar.addAction(a)
        toolbar.addSeparator()
        toolbar.addAction(self.act_settings)
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        app_menu = self.menuBar().addMenu("&App")
        app_menu.addAction(self.act_settings)
        app_menu.addAction(self.act_forget)
        app_menu.addAction(self.act_about)
        app_menu.addSeparator()
        app_menu.addAction(self.act_quit)
        server_menu = self.menuBar().addMenu("&Server")
        server_menu.addAction(self.act_add)
        server_menu.addSeparator()
        for a in self.server_action_list:
            server_menu.addAction(a)
        server_menu.addAction(self.act_re_register)
        # "Use in…" and "Copy config snippet": the same code as `mcp-auth setup-client`.
        self.use_in = UseInMenus(self.selected_view, self)
        self.use_in.message.connect(self.show_message)
        server_menu.addSeparator()
        server_menu.addMenu(self.use_in.use_in)
        server_menu.addMenu(self.use_in.snippet)
        server_menu.insertAction(self.act_re_register, self.act_rename)
        # The same actions on a right-click on a row.
        self.row_menu = RowMenu(self.table, [
            self.act_sign_in, self.act_re_register, self.act_refresh, self.act_copy, self.act_test,
            None, self.use_in.use_in, self.use_in.snippet,
            None, self.act_rename, self.act_revoke, self.act_remove], self)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self.row_menu.show_at)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.setToolTip("Working…")
        self.busy.hide()
        # Short, so messages on the left are not cut off; the tooltip says it in full.
        self.storage_label = QLabel()
        self.show_storage()
        bar.addPermanentWidget(self.busy)
        bar.addPermanentWidget(self.storage_label)

    def show_storage(self) -> None:
        """Where secrets are kept, in the status bar (again once the vault has opened)."""
        set_plain(self.storage_label, self.bridge.storage_summary())
        self.storage_label.setToolTip(tooltip("Secrets: " + self.bridge.storage_description()))

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

    def _update_actions(self) -> None:
        view = self.selected_view()
        busy = view is not None and self.bridge.is_busy(view.id)
        signed_in = view is not None and view.state in _SIGNED_IN
        signing_in = view is not None and view.state is ServerState.SIGNING_IN
        self.act_sign_in.setEnabled(view is not None and not signed_in)
        self.act_sign_in.setText("Cancel sign-in" if signing_in else "&Sign in")
        self.act_re_register.setEnabled(
            view is not None and not signing_in and view.registration_method == "dcr"
        )
        self.act_refresh.setEnabled(signed_in and not busy and bool(view and view.has_refresh_token))
        self.act_copy.setEnabled(signed_in)
        self.act_test.setEnabled(view is not None and not busy)
        self.act_revoke.setEnabled(signed_in and not busy)
        self.act_remove.setEnabled(view is not None)
        self.act_rename.setEnabled(view is not None and not busy)
        self.use_in.set_enabled(view is not None)

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

    # --- per-server actions -----------------------------------------------------------

    def sign_in_selected(self) -> asyncio.Task[ServerView | None] | None:
        sid = self.selected_id()
        if sid is None:
            return None
        if self.bridge.cancel(sid, "sign-in"):
            return None
        return self.server_actions.sign_in(sid)

    def re_register_selected(self) -> asyncio.Task[ServerView | None] | None:
        sid = self.selected_id()
        return self.server_actions.re_register(sid) if sid else None

    def refresh_selected(self) -> asyncio.Task[ServerView | None] | None:
        sid = self.selected_id()
        return self.server_actions.refresh(sid) if sid else None

    def copy_selected(self) -> asyncio.Task[bool] | None:
        sid = self.selected_id()
        return self.server_actions.copy_token(sid) if sid else None

    def test_selected(self) -> asyncio.Task[None] | None:
        sid = self.selected_id()
        return self.server_actions.test(sid) if sid else None

    def revoke_selected(self) -> asyncio.Task[RevocationReport | None] | None:
        sid = self.selected_id()
        if sid is None:
            return None
        task = self.server_actions.revoke(sid)
        self.bridge.spawn(self._report_when_done(task, "Sign-out"))
        return task

    def open_about(self) -> AboutDialog:
        dialog = AboutDialog(self.bridge.vault_folder(), self.bridge.storage_description(), self,
                             open_folder=self.open_folder)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.about_dialog = dialog
        dialog.open()
        return dialog

    def rename_selected(self) -> QInputDialog | None:
        """Ask for a new name (the current one filled in); a taken name is refused with the reason."""
        view = self.selected_view()
        if view is None:
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename server")
        dialog.setLabelText("New name:")  # fixed text: the server's name goes in the edit field
        dialog.setTextValue(view.name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda text, sid=view.id, old=view.name:
                                         self._rename(sid, old, text))
        self.rename_dialog = dialog
        dialog.open()
        return dialog

    def _rename(self, server_id: str, old: str, text: str) -> None:
        self.rename_dialog = None
        if text.strip() and text.strip() != old:
            self.bridge.rename(server_id, text.strip())

    def remove_selected(self) -> QMessageBox | None:
        view = self.selected_view()
        if view is None:
            return None
        box = message_box(
            QMessageBox.Icon.Question,
            "Remove server?",
            f"Remove “{view.name}”?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        set_box_informative(box,
            "Its tokens are revoked at the server where possible, then everything this app "
            "keeps about it is deleted."
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Remove")
        sid = view.id
        box.finished.connect(lambda result, s=sid: self._on_confirm_remove(s, result))
        self.confirm_box = box
        box.open()
        return box

    def forget_everything(self) -> QMessageBox:
        """Ask, then remove every server and delete the vault; the app closes afterwards."""
        box = message_box(QMessageBox.Icon.Warning, "Forget everything?",
                          "Remove every server and delete the encrypted vault and its key?",
                          QMessageBox.StandardButton.Cancel, self)
        set_box_informative(box,
            "“Revoke and forget” first revokes your tokens at each server (where it can), then "
            "deletes everything this app keeps. “Forget here only” deletes without contacting "
            "the servers. The app closes afterwards; your settings are kept."
        )
        revoke = box.addButton("Revoke and forget", QMessageBox.ButtonRole.DestructiveRole)
        local = box.addButton("Forget here only", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.forget_revoke_button, self.forget_local_button = revoke, local

        def on_finished(_result: int) -> None:
            clicked = box.clickedButton()
            self.confirm_box = None
            box.deleteLater()
            if clicked in (revoke, local):
                task = self.bridge.forget_everything(revoke=clicked is revoke)
                self.bridge.spawn(self._after_forget(task))

        box.finished.connect(on_finished)
        self.confirm_box = box
        box.open()
        return box

    async def _after_forget(self, task: asyncio.Task[list[tuple[str, str]] | None]) -> None:
        outcome = await task
        if outcome is None:
            return  # the failure was shown; nothing was deleted that the user cannot see
        lines = [f"{name}: {text}" for name, text in outcome] or ["No servers were configured."]
        box = message_box(QMessageBox.Icon.Information, "Everything is forgotten",
                          "\n".join(lines) + "\n\nThe vault and its key are deleted. "
                          "MCP Auth Desktop will now close; start it again to begin afresh.",
                          QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        self.report_box = box
        box.finished.connect(lambda _r: self._on_quit())
        box.show()

    def _on_confirm_remove(self, server_id: str, result: int) -> None:
        box, self.confirm_box = self.confirm_box, None
        if box is not None:
            box.deleteLater()
        if result != QMessageBox.StandardButton.Yes:
            return
        task = self.server_actions.remove(server_id)
        self.bridge.spawn(self._report_when_done(task, "Removal"))

    async def _report_when_done(self, task: asyncio.Task[RevocationReport | None], what: str) -> None:
        report = await task
        if report is None:
            return
        self.last_report = report
        self.show_message(f"{what}: {report.summary()}")
        box = message_box(QMessageBox.Icon.Information, what, f"{what}: {report.summary()}",
                          QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self.report_box is not None:
            self.report_box.close()
        self.report_box = box
        box.finished.connect(lambda _r, b=box: self._on_report_box_finished(b))
        box.show()  # non-modal: a report must not block the window

    def _on_report_box_finished(self, box: QMessageBox) -> None:
        if self.report_box is box:
            self.report_box = None

    def _on_tools_listed(self, server_id: str, tools: list[Tool]) -> None:
        self.details.set_tools(server_id, tools)

    # --- add server ----------------------------------------------------------------

    def open_add_dialog(self) -> AddServerDialog:
        if self.add_dialog is not None:
            self.add_dialog.raise_()
            self.add_dialog.activateWindow()
            return self.add_dialog
        from mcp_auth_desktop.gui.add_dialog import AddServerDialog

        dialog = AddServerDialog(self)
        dialog.submitted.connect(self._on_add_submitted)
        dialog.finished.connect(self._on_add_dialog_finished)
        self.add_dialog = dialog
        dialog.open()
        return dialog

    def _on_add_dialog_finished(self, _result: int) -> None:
        dialog, self.add_dialog = self.add_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _on_add_submitted(self, request: AddServerRequest) -> None:
        dialog = self.add_dialog
        if dialog is not None:
            dialog.set_working(True)
        task = self.bridge.add_server(request)
        self.bridge.spawn(self._after_add(task, dialog, request))

    async def _after_add(self, task: asyncio.Task[ServerView | None],
                         dialog: AddServerDialog | None, request: AddServerRequest) -> None:
        view = await task
        if dialog is None or dialog is not self.add_dialog:
            if view is not None:
                self.select_server(view.id)
            return
        if view is None:
            # Nothing was stored. When the server could not be reached or used (not a
            # bad input), offer to keep it anyway and sign in later.
            error = self.bridge.last_add_error
            offer = request.discover and error is not None and not isinstance(
                error, ConfigurationError | DuplicateServerError)
            dialog.show_error(self._last_failure.get("", "The server could not be added."),
                              offer_keep=offer)
            return
        dialog.set_working(False)
        dialog.accept()
        self.select_server(view.id)

    # --- settings ----------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return self.settings_dialog
        from mcp_auth_desktop.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.preferences.current,
                                storage_text=self.bridge.storage_description(), parent=self)
        dialog.submitted.connect(self.settingsSubmitted)
        dialog.finished.connect(self._on_settings_finished)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _on_settings_finished(self, _result: int) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def apply_settings(self, settings: GuiSettings) -> None:
        self.show_message("Settings saved.")

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
