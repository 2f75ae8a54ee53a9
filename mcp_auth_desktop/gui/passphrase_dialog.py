"""Asks for the vault passphrase when no OS keyring can hold the vault key.

Opened with ``open()`` (never ``exec()``, which would stall the asyncio
loop); :func:`ask_passphrase` wraps it in an awaitable.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from mcp_auth_desktop.core import passphrase_policy
from mcp_auth_desktop.core.passphrase_policy import creation_problem, unlock_problem
from mcp_auth_desktop.gui.plain import set_plain, tooltip

__all__ = ["PassphraseDialog", "ask_passphrase"]

MIN_LENGTH = passphrase_policy.MIN_LENGTH


class PassphraseDialog(QDialog):
    """A passphrase field (twice when ``confirm``), with an explanation and an error line."""

    def __init__(self, message: str, *, confirm: bool = False, error: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unlock your MCP tokens")
        self._confirm = confirm
        intro = QLabel()
        set_plain(intro, message)
        intro.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setAccessibleName("Repeat passphrase")
        self.error = QLabel()
        set_plain(self.error, error)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d93636")
        self.error.setVisible(bool(error))
        form = QFormLayout()
        form.addRow("Passphrase:", self.passphrase)
        if confirm:
            form.addRow("Repeat:", self.repeat)
        else:
            self.repeat.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.passphrase.textChanged.connect(self._validate)
        self.repeat.textChanged.connect(self._validate)
        self._validate()

    def problem(self) -> str | None:
        # One policy with the CLI: length only for a new vault; any existing vault opens
        # with the passphrase it was made with (issue 16).
        text = self.passphrase.text()
        if self._confirm:
            return creation_problem(text, self.repeat.text())
        return unlock_problem(text)

    def _validate(self) -> None:
        problem = self.problem()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(problem is None)
        ok.setToolTip(tooltip(problem) if problem else "")

    def value(self) -> str:
        return self.passphrase.text()


async def ask_passphrase(message: str, *, confirm: bool = False, error: str = "",
                         parent: QWidget | None = None) -> str | None:
    """Show the dialog and wait for it without blocking the loop; None if cancelled."""
    dialog = PassphraseDialog(message, confirm=confirm, error=error, parent=parent)
    done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def on_finished(result: int) -> None:
        if not done.done():
            done.set_result(dialog.value() if result == QDialog.DialogCode.Accepted else None)

    dialog.finished.connect(on_finished)
    dialog.open()
    try:
        return await done
    finally:
        dialog.passphrase.clear()
        dialog.repeat.clear()
        dialog.deleteLater()
