"""About: the version, the licences of what the app is built from, where data and secrets are kept.

The folder is the one holding the settings and the vault; "Open folder" hands
it to the desktop's file manager (the opener is injectable for tests).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from mcp_auth_desktop import __version__
from mcp_auth_desktop.gui.plain import set_plain

__all__ = ["AboutDialog", "licences"]

#: What the app runs on (distribution names); each licence is read from its installed metadata.
_COMPONENTS = (
    ("PySide6 (Qt for Python)", "pyside6-essentials"),
    ("httpx", "httpx"),
    ("httpx-sse", "httpx-sse"),
    ("keyring", "keyring"),
    ("cryptography", "cryptography"),
    ("platformdirs", "platformdirs"),
    ("qasync", "qasync"),
)


def licences() -> list[str]:
    """One line per component: name, installed version, licence as its metadata states it."""
    lines = [f"MCP Auth Desktop {__version__}: MIT"]
    for title, dist in _COMPONENTS:
        try:
            meta = metadata.metadata(dist)
        except metadata.PackageNotFoundError:
            lines.append(f"{title}: not installed")
            continue
        # get_all, not [...]: a distribution found through the importlib_metadata backport's
        # finder raises KeyError for a missing field where the standard library gives None.
        stated = (meta.get_all("License-Expression") or []) + (meta.get_all("License") or [])
        licence = next((str(v) for v in stated if v), "").strip()
        licence = licence.splitlines()[0][:80] if licence else "see its distribution"
        lines.append(f"{title} {meta['Version']}: {licence}")
    return lines


class AboutDialog(QDialog):
    def __init__(self, folder: Path | None, secrets: str, parent: QWidget | None = None,
                 open_folder: Callable[[Path], object] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About MCP Auth Desktop")
        self.folder = folder
        self._open = open_folder or (lambda p: QDesktopServices.openUrl(QUrl.fromLocalFile(str(p))))
        layout = QVBoxLayout(self)
        self.title = QLabel()
        set_plain(self.title, f"MCP Auth Desktop {__version__}\n"
                              "Signs in to MCP servers and keeps their OAuth tokens fresh.")
        layout.addWidget(self.title)
        self.where = QLabel()
        set_plain(self.where, "Vault folder: "
                  + (str(folder) if folder is not None else "none (nothing is saved)")
                  + f"\nSecrets: {secrets}")
        self.where.setWordWrap(True)
        layout.addWidget(self.where)
        self.licences = QLabel()
        set_plain(self.licences, "Licences:\n" + "\n".join(licences()))
        layout.addWidget(self.licences)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = QPushButton("Open folder")
        self.open_button.setEnabled(folder is not None)
        self.open_button.setToolTip("Show the folder that holds the vault")
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.clicked.connect(self._open_folder)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _open_folder(self) -> None:
        if self.folder is not None:
            self._open(self.folder)
