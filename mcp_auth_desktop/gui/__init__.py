"""The PySide6 desktop app (tray, window, dialogs) on a qasync event loop."""
