"""The main window's actions: one QAction per command, in the toolbar, the menus and
the row menu alike, and which of them the selected server's state enables."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QProgressBar, QToolBar

from mcp_auth_desktop.core.stale_client import RE_REGISTER_ACTION
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.icons import icon
from mcp_auth_desktop.gui.plain import set_plain, tooltip
from mcp_auth_desktop.gui.row_menu import RowMenu
from mcp_auth_desktop.gui.use_in import UseInMenus
from mcp_auth_desktop.gui.window_host import WindowParts

__all__ = ["WindowActionsMixin"]


class WindowActionsMixin(WindowParts):
    """Builds the window's actions, toolbar, menus and status bar; enables them per row."""

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
        self.act_sign_in_code = self._action(
            "sign-in", "Sign in with a c&ode…",
            "Sign in by entering a code in a browser on any device (when this machine's browser "
            "is not yours, e.g. on a remote desktop)", None, self.sign_in_with_code_selected)
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
        self.act_edit = self._action("settings", "&Edit…",
                                     "Change the selected server's scopes, client and options",
                                     "Ctrl+E", self.edit_selected)
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
        server_menu.insertAction(self.act_refresh, self.act_sign_in_code)
        # "Use in…" and "Copy config snippet": the same code as `mcp-auth setup-client`.
        self.use_in = UseInMenus(self.selected_view, self)
        self.use_in.message.connect(self.show_message)
        server_menu.addSeparator()
        server_menu.addMenu(self.use_in.use_in)
        server_menu.addMenu(self.use_in.snippet)
        server_menu.insertAction(self.act_re_register, self.act_rename)
        server_menu.insertAction(self.act_re_register, self.act_edit)
        # The same actions on a right-click on a row.
        self.row_menu = RowMenu(self.table, [
            self.act_sign_in, self.act_sign_in_code, self.act_re_register, self.act_refresh, self.act_copy, self.act_test,
            None, self.use_in.use_in, self.use_in.snippet,
            None, self.act_rename, self.act_edit, self.act_revoke, self.act_remove], self)
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

    def show_locked(self, because: str) -> None:
        """Before the vault is open: what the app waits for, in the status bar."""
        set_plain(self.storage_label, f"Tokens locked: {because}")
        self.storage_label.setToolTip(tooltip("Secrets: " + self.bridge.storage_description()))

    def show_storage(self) -> None:
        """Where secrets are kept, in the status bar (again once the vault has opened)."""
        set_plain(self.storage_label, self.bridge.storage_summary())
        self.storage_label.setToolTip(tooltip("Secrets: " + self.bridge.storage_description()))


    def _update_actions(self) -> None:
        view = self.selected_view()
        if view is not None and view.state is ServerState.LOCKED:
            view = None  # nothing can be done before the vault is open: all off
        busy = view is not None and self.bridge.is_busy(view.id)
        signed_in = view is not None and view.state.signed_in
        signing_in = view is not None and view.state is ServerState.SIGNING_IN
        self.act_sign_in.setEnabled(view is not None and not signed_in)
        self.act_sign_in.setText("Cancel sign-in" if signing_in else "&Sign in")
        self.act_re_register.setEnabled(
            view is not None and not signing_in and view.registration_method == "dcr"
        )
        # Unknown before discovery: the sign-in finds out, and says so when it is not offered.
        offered = view is not None and view.device_grant_supported is not False
        self.act_sign_in_code.setEnabled(offered and not signed_in and not signing_in)
        self.act_sign_in_code.setToolTip(
            f"The authorization server of {view.name} does not offer sign-in with a code"
            if view is not None and view.device_grant_supported is False
            else self.act_sign_in_code.statusTip())
        self.act_refresh.setEnabled(signed_in and not busy and bool(view and view.has_refresh_token))
        self.act_copy.setEnabled(signed_in)
        self.act_test.setEnabled(view is not None and not busy)
        self.act_revoke.setEnabled(signed_in and not busy)
        self.act_remove.setEnabled(view is not None)
        self.act_rename.setEnabled(view is not None and not busy)
        self.act_edit.setEnabled(view is not None and not busy)
        self.details.edit_button.setEnabled(view is not None and not busy)
        self.use_in.set_enabled(view is not None)
