"""The window's "Use in…" and "Copy config snippet" menus: they run the setup-client code.

The menus are triggered as a user would (Server menu, real QActions), the
confirmation dialog's Apply/Cancel buttons are clicked, and the client
files are read back from a temporary HOME.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import Gui, run, settle


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _menu_texts(gui: Gui) -> list[str]:
    server_menu = next(a.menu() for a in gui.window.menuBar().actions() if a.text() == "&Server")
    return [a.text() for a in server_menu.actions()]


def _view(gui: Gui) -> Any:
    view = gui.window.selected_view()
    assert view is not None
    return view


def test_use_in_cursor_shows_the_diff_then_writes_after_apply(make_gui: Any, qtbot: Any, home: Path) -> None:
    gui = make_gui(seed=2)
    run(gui.loop, settle())
    assert "&Use in…" in _menu_texts(gui) and "Copy config &snippet" in _menu_texts(gui)
    use_in = gui.window.use_in
    assert use_in.use_in.isEnabled()
    config = home / ".cursor" / "mcp.json"
    config.parent.mkdir()
    original = '{\n  "mcpServers": {\n    "mine": {"command": "x"}\n  }\n}\n'
    config.write_text(original)

    use_in.actions["cursor"].trigger()
    box = use_in.dialog
    assert box is not None and box.isVisible()
    view = _view(gui)
    assert view.name in box.text() and str(config) in box.text()
    assert '"bridge",' in box.detailedText() and view.id in box.detailedText()
    assert config.read_text() == original  # nothing written before Apply

    with qtbot.waitSignal(use_in.message, timeout=3000) as sig:
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Apply), Qt.MouseButton.LeftButton)
    assert "Added" in sig.args[0] and "backup" in sig.args[0]
    data = json.loads(config.read_text())
    assert data["mcpServers"]["mine"] == {"command": "x"}
    assert data["mcpServers"][view.name]["args"] == ["bridge", view.id]
    backups = list(config.parent.glob("mcp.json.bak-mcp-auth-*"))
    assert [b.read_text() for b in backups] == [original]
    assert gui.window.statusBar().currentMessage().startswith("Added")

    # Again: nothing to change, said so, nothing written.
    written = config.read_text()
    use_in.actions["cursor"].trigger()
    assert use_in.dialog is not None and "Already set up" in use_in.dialog.windowTitle()
    assert config.read_text() == written


def test_cancel_changes_nothing_and_a_bad_file_is_refused(make_gui: Any, qtbot: Any, home: Path) -> None:
    gui = make_gui(seed=1)
    run(gui.loop, settle())
    use_in = gui.window.use_in
    use_in.actions["claude-code"].trigger()
    box = use_in.dialog
    assert box is not None and '"headersHelper"' in box.detailedText()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert not (home / ".claude.json").exists()
    assert gui.window.statusBar().currentMessage() == "Nothing was changed."

    bad = home / ".codeium" / "windsurf" / "mcp_config.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"mcpServers": {,}}')
    use_in.actions["windsurf"].trigger()
    box = use_in.dialog
    assert box is not None and box.icon() == QMessageBox.Icon.Warning
    assert "cannot be parsed" in box.text() and "left unchanged" in box.text()
    assert bad.read_text() == '{"mcpServers": {,}}'


def test_copy_config_snippet(make_gui: Any, home: Path) -> None:
    gui = make_gui(seed=1)
    run(gui.loop, settle())
    view = _view(gui)
    gui.window.use_in.actions["snippet:vscode"].trigger()
    data = json.loads(QGuiApplication.clipboard().text())
    entry = data["servers"][view.name]
    assert entry["type"] == "stdio" and entry["args"] == ["bridge", view.id]
    gui.window.use_in.actions["snippet:claude-code"].trigger()
    data = json.loads(QGuiApplication.clipboard().text())
    assert data["mcpServers"][view.name]["url"] == view.url
    assert data["mcpServers"][view.name]["headersHelper"].endswith(f"token {view.id} --format json")
    assert "copied" in gui.window.statusBar().currentMessage()


def test_menus_disabled_without_a_selection(make_gui: Any) -> None:
    gui = make_gui(seed=0)
    run(gui.loop, settle())
    assert not gui.window.use_in.use_in.isEnabled()
    assert not gui.window.use_in.snippet.isEnabled()


def test_claude_code_in_a_project_folder(make_gui: Any, qtbot: Any, home: Path, tmp_path: Path) -> None:
    gui = make_gui(seed=1)
    run(gui.loop, settle())
    project = tmp_path / "project"
    project.mkdir()
    use_in = gui.window.use_in
    use_in.actions["claude-code:project"].trigger()
    folder = use_in.folder_dialog
    assert folder is not None and folder.isVisible()
    folder.setDirectory(str(project))
    folder.selectFile(str(project))
    folder.accept()
    box = use_in.dialog
    assert box is not None and str(project / ".mcp.json") in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Apply), Qt.MouseButton.LeftButton)
    view = _view(gui)
    data = json.loads((project / ".mcp.json").read_text())
    assert data["mcpServers"][view.name]["type"] == "http"
