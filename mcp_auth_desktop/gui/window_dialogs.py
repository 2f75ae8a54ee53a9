"""The main window's dialogs: add a server, edit one, settings, about. Each is built when
first opened (not before the first frame) and opened with ``open()`` so the loop keeps running."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer

from mcp_auth_desktop.core.errors import ConfigurationError, DuplicateServerError
from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.preferences import GuiSettings
from mcp_auth_desktop.gui.window_host import WindowParts

if TYPE_CHECKING:
    from mcp_auth_desktop.core.server_edit import EditOutcome, ServerEdit
    from mcp_auth_desktop.gui.about_dialog import AboutDialog
    from mcp_auth_desktop.gui.add_dialog import AddServerDialog
    from mcp_auth_desktop.gui.device_dialog import DeviceSignInDialog
    from mcp_auth_desktop.gui.edit_dialog import EditServerDialog
    from mcp_auth_desktop.gui.settings_dialog import SettingsDialog

__all__ = ["WindowDialogsMixin"]


class WindowDialogsMixin(WindowParts):
    """Opens the add-server, settings and about dialogs and handles what they submit."""

    def open_about(self) -> AboutDialog:
        # Loaded when first opened: it reads importlib.metadata, which the start does not need.
        from mcp_auth_desktop.gui.about_dialog import AboutDialog

        dialog = AboutDialog(self.bridge.vault_folder(), self.bridge.storage_description(), self,
                             open_folder=self.open_folder)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.about_dialog = dialog
        dialog.open()
        return dialog

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

    # --- sign in with a code -----------------------------------------------------

    def sign_in_with_code_selected(self) -> DeviceSignInDialog | None:
        """Sign in with a code entered in a browser on any device (RFC 8628), non-modal."""
        view = self.selected_view()
        if view is None:
            return None
        if self.device_dialog is not None:
            if self.device_dialog.server_id == view.id and self.device_dialog.ended is None:
                self.device_dialog.raise_()
                self.device_dialog.activateWindow()
                return self.device_dialog
            self.device_dialog.close_quietly()
        from mcp_auth_desktop.gui.device_dialog import DeviceSignInDialog

        dialog = DeviceSignInDialog(self.bridge, view, self)
        dialog.finished.connect(lambda _r, d=dialog: self._on_device_dialog_finished(d))
        self.device_dialog = dialog
        dialog.show()
        return dialog

    def _on_device_dialog_finished(self, dialog: DeviceSignInDialog) -> None:
        if self.device_dialog is dialog:
            self.device_dialog = None
        dialog.deleteLater()

    # --- edit a server -----------------------------------------------------------

    def edit_selected(self) -> EditServerDialog | None:
        """The selected server's settings, pre-filled, to change and save (Edit…)."""
        view = self.selected_view()
        if view is None:
            return None
        if self.edit_dialog is not None:
            if self.edit_dialog.config.id == view.id:
                self.edit_dialog.raise_()
                self.edit_dialog.activateWindow()
                return self.edit_dialog
            self.edit_dialog.reject()
        config = self.bridge.server_config(view.id)
        if config is None:
            self.show_message(f"{view.name} cannot be edited: it is no longer in the list.")
            return None
        from mcp_auth_desktop.gui.edit_dialog import EditServerDialog

        dialog = EditServerDialog(config, self)
        dialog.submitted.connect(lambda edit, d=dialog: self._on_edit_submitted(d, edit))
        dialog.signInRequested.connect(self.server_actions.sign_in)
        dialog.finished.connect(lambda _r, d=dialog: self._on_edit_dialog_finished(d))
        self.edit_dialog = dialog
        dialog.open()
        self.bridge.spawn(self._tell_secret_stored(dialog))
        # While it is open, a change saved elsewhere shows in it (not every such change
        # alters what the rows show, so there may be no event for it: the settings are read).
        follow = QTimer(dialog)
        follow.setObjectName("follow")
        follow.setInterval(500)
        follow.timeout.connect(lambda d=dialog: self._follow_edit(d))
        follow.start()
        return dialog

    def _follow_edit(self, dialog: EditServerDialog) -> None:
        config = self.bridge.server_config(dialog.config.id)
        if config is not None and dialog is self.edit_dialog:
            dialog.follow(config)

    async def _tell_secret_stored(self, dialog: EditServerDialog) -> None:
        stored = await self.bridge.has_client_secret(dialog.config.id)
        if dialog is self.edit_dialog:
            dialog.set_secret_stored(stored)

    def _on_edit_dialog_finished(self, dialog: EditServerDialog) -> None:
        if self.edit_dialog is dialog:
            self.edit_dialog = None
        dialog.deleteLater()

    def _on_edit_submitted(self, dialog: EditServerDialog, edit: ServerEdit) -> None:
        dialog.set_working(True)
        task = self.bridge.edit(dialog.config.id, edit)
        self.bridge.spawn(self._after_edit(task, dialog))

    async def _after_edit(self, task: asyncio.Task[EditOutcome | None],
                          dialog: EditServerDialog) -> None:
        outcome = await task
        if dialog is not self.edit_dialog:
            return  # closed meanwhile: the status bar (or the error box) has said it
        if outcome is None:
            conflict = self.bridge.edit_conflicts.pop(dialog.config.id, None)
            if conflict is not None:
                dialog.show_conflict(conflict)
                return
            dialog.show_error(self._last_failure.get(dialog.config.id, "The change was not saved."))
            return
        dialog.show_outcome(outcome)

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
