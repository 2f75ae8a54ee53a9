"""The one QApplication of a run, set up the same for the app and its self-test."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from mcp_auth_desktop.gui import autostart
from mcp_auth_desktop.gui.icons import app_icon
from mcp_auth_desktop.gui.source_cache import answer_without_linecache

__all__ = ["make_qapplication"]


def make_qapplication(argv: list[str]) -> QApplication:
    # PySide6's import hook reads every module imported from here on: without linecache.
    answer_without_linecache()
    # Before any window exists: Wayland compositors take the app id (which matches the
    # menu entry, and so its icon and name) from the first surface.
    QGuiApplication.setDesktopFileName(autostart.DESKTOP_ID)
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    # Fractional scaling is Qt 6's default rounding policy (PassThrough): not set here, so
    # QT_SCALE_FACTOR_ROUNDING_POLICY still works, and the tray icon, shown right after
    # this, does not wait for PySide6 to make its Qt namespace (~20 ms, gui/tray.py).
    QCoreApplication.setOrganizationName("mcp-auth-desktop")
    QCoreApplication.setApplicationName("MCP Auth Desktop")
    app = QApplication(argv)
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)
    return app
