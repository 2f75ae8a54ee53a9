"""Copying tokens to the clipboard, and taking them back out.

The mime data carries ``x-kde-passwordManagerHint: secret`` so Klipper and
other clipboard managers that honour it keep the token out of their history.
After the configured delay the clipboard is cleared, but only if it still
holds our token: whatever the user copied since is left alone.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

__all__ = ["SecretClipboard", "PASSWORD_HINT_MIME"]

PASSWORD_HINT_MIME = "x-kde-passwordManagerHint"


class SecretClipboard(QObject):
    """Puts one secret on the clipboard at a time and clears it later.

    Signals:
        cleared(): the clipboard still held the secret and was emptied.
    """

    cleared = Signal()

    def __init__(self, clipboard: QClipboard | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clipboard = clipboard or QGuiApplication.clipboard()
        self._secret: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_if_ours)

    def copy_secret(self, secret: str, clear_after: float) -> None:
        """Copy ``secret``; clear it after ``clear_after`` seconds (0 = never)."""
        mime = QMimeData()
        mime.setText(secret)
        mime.setData(PASSWORD_HINT_MIME, b"secret")
        self._clipboard.setMimeData(mime)
        self._secret = secret
        self._timer.stop()
        if clear_after > 0:
            self._timer.start(int(clear_after * 1000))

    def holds_secret(self) -> bool:
        return self._secret is not None and self._clipboard.text() == self._secret

    def clear_if_ours(self) -> None:
        """Empty the clipboard if it still holds the secret we put there."""
        self._timer.stop()
        if self.holds_secret():
            self._clipboard.clear()
            self.cleared.emit()
        self._secret = None

    @property
    def pending(self) -> bool:
        return self._timer.isActive()
