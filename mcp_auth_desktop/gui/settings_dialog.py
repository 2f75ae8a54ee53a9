"""The Settings dialog: clipboard delay, refresh margin, start at login, notifications.

Opened with ``open()``; emits ``submitted`` with the new :class:`GuiSettings`
and leaves saving (async) to its caller.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from mcp_auth_desktop.gui.plain import set_plain
from mcp_auth_desktop.gui.preferences import GuiSettings

__all__ = ["SettingsDialog"]


class SettingsDialog(QDialog):
    """Signals: submitted(GuiSettings)."""

    submitted = Signal(object)

    def __init__(self, settings: GuiSettings, *, storage_text: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.clipboard_delay = QDoubleSpinBox()
        self.clipboard_delay.setRange(0, 3600)
        self.clipboard_delay.setDecimals(0)
        self.clipboard_delay.setSuffix(" s")
        self.clipboard_delay.setSpecialValueText("never")
        self.clipboard_delay.setValue(settings.clipboard_clear_seconds)
        self.clipboard_delay.setToolTip(
            "A token you copy is removed from the clipboard after this long, "
            "unless you copied something else meanwhile."
        )
        self.refresh_margin = QDoubleSpinBox()
        self.refresh_margin.setRange(0, 86400)
        self.refresh_margin.setDecimals(0)
        self.refresh_margin.setSuffix(" s")
        self.refresh_margin.setValue(settings.refresh_margin_seconds)
        self.refresh_margin.setToolTip(
            "Copy token refreshes first when the token would expire within this time."
        )
        self.start_at_login = QCheckBox("Start MCP Auth Desktop when I log in")
        self.start_at_login.setChecked(settings.start_at_login)
        self.start_at_login.setToolTip("Writes an autostart entry in ~/.config/autostart")
        self.notifications = QCheckBox("Notify me when a server needs sign-in or a refresh fails")
        self.notifications.setChecked(settings.notifications)

        form = QFormLayout()
        form.addRow("Clear copied tokens after:", self.clipboard_delay)
        form.addRow("Refresh before copying if expiring within:", self.refresh_margin)
        form.addRow(self.start_at_login)
        form.addRow(self.notifications)
        if storage_text:
            where = QLabel()
            set_plain(where, f"Secrets are kept in: {storage_text}")
            where.setWordWrap(True)
            where.setTextInteractionFlags(where.textInteractionFlags()
                                          | where.textInteractionFlags().TextSelectableByMouse)
            form.addRow(where)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def value(self) -> GuiSettings:
        return GuiSettings(
            clipboard_clear_seconds=self.clipboard_delay.value(),
            refresh_margin_seconds=self.refresh_margin.value(),
            start_at_login=self.start_at_login.isChecked(),
            notifications=self.notifications.isChecked(),
        )

    def accept(self) -> None:
        self.submitted.emit(self.value())
        super().accept()
