"""What the main window's parts may use of each other (for mypy only).

The window is one ``QMainWindow`` assembled from parts, each in its own module:
``window_actions`` (the actions, menus, toolbar, status bar and what is enabled),
``window_commands`` (what the per-server actions do and the boxes they open),
``window_dialogs`` (the add, settings and about dialogs) and ``main_window``
(the layout, the selection, the feedback). At run time the parts are plain
mixins over ``object``; for the type checker they share this declaration of the
window's attributes and the methods one part calls in another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from PySide6.QtCore import Signal
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import (
        QInputDialog,
        QLabel,
        QMainWindow,
        QMessageBox,
        QProgressBar,
        QTableView,
    )

    from mcp_auth_desktop.core.state import RevocationReport, ServerView
    from mcp_auth_desktop.gui.about_dialog import AboutDialog
    from mcp_auth_desktop.gui.actions import ServerActions
    from mcp_auth_desktop.gui.add_dialog import AddServerDialog
    from mcp_auth_desktop.gui.bridge import ManagerBridge
    from mcp_auth_desktop.gui.details import DetailsPanel
    from mcp_auth_desktop.gui.device_dialog import DeviceSignInDialog
    from mcp_auth_desktop.gui.edit_dialog import EditServerDialog
    from mcp_auth_desktop.gui.preferences import Preferences
    from mcp_auth_desktop.gui.server_model import ServerTableModel
    from mcp_auth_desktop.gui.settings_dialog import SettingsDialog
    from mcp_auth_desktop.gui.use_in import UseInMenus

    class WindowParts(QMainWindow):
        settingsSubmitted: Signal
        bridge: ManagerBridge
        server_actions: ServerActions
        preferences: Preferences
        model: ServerTableModel
        table: QTableView
        details: DetailsPanel
        use_in: UseInMenus
        busy: QProgressBar
        storage_label: QLabel
        act_sign_in: QAction
        act_re_register: QAction
        act_sign_in_code: QAction
        act_refresh: QAction
        act_copy: QAction
        act_test: QAction
        act_revoke: QAction
        act_remove: QAction
        act_rename: QAction
        act_edit: QAction
        add_dialog: AddServerDialog | None
        edit_dialog: EditServerDialog | None
        device_dialog: DeviceSignInDialog | None
        settings_dialog: SettingsDialog | None
        about_dialog: AboutDialog | None
        confirm_box: QMessageBox | None
        report_box: QMessageBox | None
        rename_dialog: QInputDialog | None
        open_folder: Callable[[Path], object] | None
        last_report: RevocationReport | None
        _last_failure: dict[str, str]
        _on_quit: Callable[[], None]

        def selected_id(self) -> str | None: ...
        def selected_view(self) -> ServerView | None: ...
        def select_server(self, server_id: str) -> None: ...
        def show_message(self, text: str) -> None: ...
        def show_error(self, title: str, text: str) -> QMessageBox: ...
        # Slots one part connects and another defines.
        def sign_in_selected(self) -> object: ...
        def re_register_selected(self) -> object: ...
        def sign_in_with_code_selected(self) -> object: ...
        def refresh_selected(self) -> object: ...
        def copy_selected(self) -> object: ...
        def test_selected(self) -> object: ...
        def revoke_selected(self) -> object: ...
        def remove_selected(self) -> object: ...
        def rename_selected(self) -> object: ...
        def edit_selected(self) -> object: ...
        def forget_everything(self) -> object: ...
        def open_add_dialog(self) -> object: ...
        def open_settings(self) -> object: ...
        def open_about(self) -> object: ...
else:
    WindowParts = object

__all__ = ["WindowParts"]
