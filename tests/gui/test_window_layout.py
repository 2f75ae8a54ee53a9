"""The window remembers its size, splitters and column widths between runs (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp_auth_desktop.gui.actions import ServerActions
from mcp_auth_desktop.gui.bridge import ManagerBridge
from mcp_auth_desktop.gui.clipboard import SecretClipboard
from mcp_auth_desktop.gui.main_window import MainWindow
from mcp_auth_desktop.gui.preferences import Preferences
from mcp_auth_desktop.gui.server_model import Column
from tests.gui.conftest import run
from tests.gui.fakes import FakeManager


def test_size_splitters_and_column_widths_come_back(qtbot: Any, loop: Any, tmp_path: Path) -> None:
    layout = tmp_path / "window.ini"
    bridges: list[ManagerBridge] = []

    def window() -> MainWindow:
        manager = FakeManager()
        manager.seed(2)
        bridge = ManagerBridge(manager, loop=loop)
        bridge.start()
        bridges.append(bridge)
        prefs = Preferences(None)
        w = MainWindow(bridge, ServerActions(bridge, SecretClipboard(), prefs), prefs,
                       layout_file=layout)
        qtbot.addWidget(w)
        return w

    first = window()
    first.show()
    qtbot.waitExposed(first)
    first.resize(900, 610)
    first.table.setColumnWidth(Column.NAME, 222)
    first.table.setColumnWidth(Column.ACCOUNT, 97)
    first._splitters[0].setSizes([600, 300])
    qtbot.wait(50)
    sizes = first._splitters[0].sizes()
    first.close()  # closing saves (the app also saves when quitting from the tray)
    assert layout.exists()

    second = window()
    second.show()
    qtbot.waitExposed(second)
    assert (second.width(), second.height()) == (900, 610)
    assert second.table.columnWidth(Column.NAME) == 222
    assert second.table.columnWidth(Column.ACCOUNT) == 97
    assert second._splitters[0].sizes() == sizes
    # Without a layout file (tests, --ephemeral) the defaults stay.
    manager = FakeManager()
    bridge = ManagerBridge(manager, loop=loop)
    bridge.start()
    bridges.append(bridge)
    prefs = Preferences(None)
    plain = MainWindow(bridge, ServerActions(bridge, SecretClipboard(), prefs), prefs)
    qtbot.addWidget(plain)
    assert plain.table.columnWidth(Column.NAME) == 150
    for b in bridges:
        run(loop, b.aclose())
    for w in (first, second, plain):
        w.model.stop()
