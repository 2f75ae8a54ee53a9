"""The event log: manager events and GUI actions, secrets already masked.

The bridge redacts before emitting; this view only formats, colours by
level and keeps a bounded number of lines so a long session cannot grow
memory without limit.
"""

from __future__ import annotations

import time

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from mcp_auth_desktop.gui.plain import plain

__all__ = ["LogView"]

_LEVEL_TAGS = {"debug": "·", "info": " ", "warning": "!", "error": "✖"}


class LogView(QPlainTextEdit):
    """Read-only, append-only log with a line cap."""

    def __init__(self, max_lines: int = 5000, *, show_debug: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Events appear here: sign-ins, refreshes, revocations…")
        self.setToolTip("What the token manager did, newest last. Secrets are never shown.")
        self.setAccessibleName("Event log")
        self._show_debug = show_debug

    def on_log_line(self, at: float, level: str, text: str) -> None:
        if level == "debug" and not self._show_debug:
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(at))
        tag = _LEVEL_TAGS.get(level.lower(), " ")
        # One line per event: a server's newline or escape cannot forge another.
        self.appendPlainText(f"{stamp} {tag} {plain(text, multiline=False)}")

    def lines(self) -> list[str]:
        return self.toPlainText().splitlines()
