"""The window's size, position, splitters and column widths, kept between runs.

Kept in a small INI file beside the settings (not in the settings document:
it changes on every resize and means nothing to the CLI). A missing or
unreadable file gives Qt's defaults; nothing here is secret.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter

__all__ = ["WindowLayout"]


class WindowLayout:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._settings = QSettings(str(path), QSettings.Format.IniFormat)

    def restore(self, window: QMainWindow, header: QHeaderView, splitters: list[QSplitter]) -> bool:
        """Apply what was saved; False when nothing usable was."""
        restored = False
        geometry = self._settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = window.restoreGeometry(geometry) or restored
        columns = self._settings.value("table/header")
        if isinstance(columns, QByteArray) and not columns.isEmpty():
            restored = header.restoreState(columns) or restored
        for i, splitter in enumerate(splitters):
            sizes = self._settings.value(f"splitter/{i}")
            if isinstance(sizes, QByteArray) and not sizes.isEmpty():
                restored = splitter.restoreState(sizes) or restored
        return restored

    def save(self, window: QMainWindow, header: QHeaderView, splitters: list[QSplitter]) -> None:
        self._settings.setValue("window/geometry", window.saveGeometry())
        self._settings.setValue("table/header", header.saveState())
        for i, splitter in enumerate(splitters):
            self._settings.setValue(f"splitter/{i}", splitter.saveState())
        self._settings.sync()
