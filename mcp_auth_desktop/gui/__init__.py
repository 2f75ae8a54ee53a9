"""The PySide6 desktop app (tray, window, dialogs) on a qasync event loop."""

from mcp_auth_desktop.gui._qtfix import install as _install_pyside_fix

_install_pyside_fix()
