"""The first frame: the window and the tray, built from the settings file alone.

:class:`~mcp_auth_desktop.gui.desktop_app.DesktopApp` builds it before the event loop
(``show_first_frame``) or, for an in-memory store, first thing in the loop. The rows
come from :class:`SettingsPreview` (nothing secret, no manager yet); the bridge over it
is handed the real manager later (``ManagerBridge.attach``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QSystemTrayIcon

from mcp_auth_desktop.core.ports import JsonObject, SettingsStore, StorageLocation
from mcp_auth_desktop.gui.actions import ServerActions
from mcp_auth_desktop.gui.bridge import ManagerBridge
from mcp_auth_desktop.gui.clipboard import SecretClipboard
from mcp_auth_desktop.gui.main_window import MainWindow
from mcp_auth_desktop.gui.preferences import Preferences
from mcp_auth_desktop.gui.preview import SettingsPreview
from mcp_auth_desktop.gui.redact import Redactor
from mcp_auth_desktop.gui.start_report import mark
from mcp_auth_desktop.gui.tray import TrayIcon

__all__ = ["FirstFrame", "build_first_frame"]

log = logging.getLogger(__name__)


@dataclass
class FirstFrame:
    preferences: Preferences
    preview: SettingsPreview
    bridge: ManagerBridge
    clipboard: SecretClipboard
    actions: ServerActions
    window: MainWindow
    #: None when the desktop has no system tray (closing the window then quits).
    tray: TrayIcon | None


def build_first_frame(settings: SettingsStore, document: JsonObject,
                      location: StorageLocation | None, *, redactor: Redactor,
                      url_opener: Callable[[str], None], keep_in_tray: Callable[[], bool],
                      on_quit: Callable[[], None], hidden: bool,
                      tray: TrayIcon | None = None) -> FirstFrame:
    """Build and show the window and the tray from ``document`` (the settings as read).

    ``location`` is an in-memory store's (the vault is already open) or None (the vault
    is still to be opened: each row says so). ``tray`` is the icon ``app.main`` already
    shows ("starting"), handed the bridge here; without it the tray is made here when
    the desktop has one. The trace marks each step.
    """
    preferences = Preferences(settings)
    preferences.load_from(document)
    preview = SettingsPreview(document, location)
    mark("settings")
    # No loop given: the bridge's tasks run on the loop running when they are started.
    bridge = ManagerBridge(preview, redactor=redactor, url_opener=url_opener)
    bridge.start()
    clipboard = SecretClipboard()
    actions = ServerActions(bridge, clipboard, preferences)
    mark("bridge")
    window = MainWindow(bridge, actions, preferences, keep_running_in_tray=keep_in_tray,
                        on_quit=on_quit, layout_file=None if location is not None else _layout_file())
    mark("window")
    if tray is None and QSystemTrayIcon.isSystemTrayAvailable():
        tray = TrayIcon()
        tray.show()
    if tray is not None:
        tray.attach(bridge, actions, preferences, on_open=window.bring_to_front, on_quit=on_quit)
    else:
        log.info("no system tray: closing the window quits the app")
        bridge.notify.connect(lambda _kind, title, text: window.show_message(f"{title}: {text}"))
    mark("tray")
    if not (hidden and tray is not None):
        window.show()
    return FirstFrame(preferences, preview, bridge, clipboard, actions, window, tray)


def _layout_file() -> Path:
    """The window layout beside the settings file (not kept for --ephemeral/--demo runs)."""
    from mcp_auth_desktop.storage.paths import app_paths

    return app_paths().config_dir / "window.ini"
