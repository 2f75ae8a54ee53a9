"""The About dialog: version, licences, where secrets are kept, and a button to open that folder."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from mcp_auth_desktop import __version__
from mcp_auth_desktop.core.ports import StorageLocation
from tests.gui.fakes import FakeManager


class FileManager(FakeManager):
    vault: Path = Path("/nonexistent/vault.bin")

    @property
    def storage_location(self) -> StorageLocation:
        return StorageLocation(key_source="keyring", backend="test keyring",
                               vault_path=str(self.vault))


def test_about_says_version_licences_and_where_and_opens_the_folder(make_gui: Any, tmp_path: Path) -> None:
    manager = FileManager()
    manager.vault = tmp_path / "data" / "vault.bin"
    window = make_gui(manager).window
    opened: list[Path] = []
    window.open_folder = opened.append
    assert window.act_about.shortcut().toString() == "F1"
    window.act_about.trigger()
    dialog = window.about_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.title.text().startswith(f"MCP Auth Desktop {__version__}")
    lines = dialog.licences.text().splitlines()
    assert f"MCP Auth Desktop {__version__}: MIT" in lines
    assert f"httpx {metadata.version('httpx')}: BSD-3-Clause" in lines
    assert any(line.startswith("PySide6 (Qt for Python) ") and "LGPL-3.0" in line for line in lines)
    assert f"qasync {metadata.version('qasync')}: BSD-2-Clause" in lines
    assert f"Vault folder: {tmp_path / 'data'}" in dialog.where.text()
    assert "test keyring" in dialog.where.text() or "keyring" in dialog.where.text()
    dialog.open_button.click()
    assert opened == [tmp_path / "data"]
    dialog.close()


def test_about_in_memory_has_no_folder_to_open(make_gui: Any) -> None:
    window = make_gui(FakeManager()).window
    dialog = window.open_about()
    assert "Vault folder: none (nothing is saved)" in dialog.where.text()
    assert not dialog.open_button.isEnabled()
    dialog.close()
