"""The tray menu is rebuilt every time it opens: it must not keep the old submenus.

``QMenu.clear()`` removes a submenu's entry but not the submenu itself (a child of
the menu), so without deleting them each opening kept one QMenu per server: with
200 servers, about 3 MiB more at every click on the tray icon.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMenu

from tests.gui.conftest import run, settle


def test_reopening_the_tray_menu_keeps_one_submenu_per_server(make_gui: Any) -> None:
    gui = make_gui(seed=5)
    for _ in range(4):
        gui.tray.menu.aboutToShow.emit()  # as each opening of the menu does
        run(gui.loop, settle())  # deleteLater runs
    submenus = gui.tray.menu.findChildren(QMenu)
    assert len(submenus) == 5
    assert sorted(m.title() for m in submenus) == sorted(gui.tray.server_names())
    # The entries still work after the rebuilds: each server's actions are there.
    name = gui.tray.server_names()[0]
    assert set(gui.tray.server_actions(name)) >= {"Copy access token", "Refresh now"}
