"""The tray icon and its menu, against the contract-shaped FakeManager."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSystemTrayIcon

from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.icons import OverallState
from tests.gui.conftest import Gui, run, settle, until
from tests.gui.fakes import FakeManager


def open_menu(gui: Gui) -> None:
    gui.tray.menu.aboutToShow.emit()


def test_the_headless_session_has_a_system_tray(make_gui: Any) -> None:
    assert QSystemTrayIcon.isSystemTrayAvailable()
    gui = make_gui(seed=1)
    gui.tray.show()
    assert gui.tray.isVisible()
    assert not gui.tray.icon().isNull()


def test_menu_matches_the_servers(make_gui: Any) -> None:
    manager = FakeManager()
    gui = make_gui(manager, seed=3)
    open_menu(gui)
    assert gui.tray.server_names() == ["Server 1", "Server 2", "Server 3"]
    texts = [a.text() for a in gui.tray.menu.actions() if not a.isSeparator()]
    assert texts[-2:] == ["Open window", "Quit"]
    sid = manager.servers()[1].id

    async def change() -> None:
        await gui.bridge.remove(sid)
        await gui.bridge.add_server(__import__("mcp_auth_desktop.gui.bridge", fromlist=["x"])
                                    .AddServerRequest(url="https://new.example.com/mcp", name="Alpha"))

    run(gui.loop, change())
    open_menu(gui)
    assert gui.tray.server_names() == ["Alpha", "Server 1", "Server 3"]


def test_empty_menu_says_so(make_gui: Any) -> None:
    gui = make_gui()
    open_menu(gui)
    first = gui.tray.menu.actions()[0]
    assert first.text() == "No servers yet" and not first.isEnabled()


def test_server_submenu_actions_do_what_they_say(make_gui: Any) -> None:
    manager = FakeManager()
    gui = make_gui(manager, seed=1)
    gui.prefs.set_local(clipboard_clear_seconds=0.3)
    sid = manager.servers()[0].id
    open_menu(gui)
    actions = gui.tray.server_actions("Server 1")
    assert list(actions) == ["Copy access token", "Refresh now", "Sign out",
                             next(t for t in actions if t.startswith("signed in · expires in"))]
    state_line = list(actions.values())[-1]
    assert not state_line.isEnabled()

    async def scenario() -> None:
        clipboard = QGuiApplication.clipboard()
        actions["Copy access token"].trigger()
        await until(lambda: clipboard.text() == manager.token_of(sid), what="copied")
        await until(lambda: clipboard.text() == "", within=3, what="cleared")
        old = manager.token_of(sid)
        actions["Refresh now"].trigger()
        await until(lambda: manager.token_of(sid) != old, what="refreshed")
        actions["Sign out"].trigger()
        await until(lambda: manager.get(sid).state is ServerState.REVOKED, what="revoked")
        assert old not in manager.revoked_tokens  # the refreshed token was the one revoked
        assert len(manager.revoked_tokens) == 2
        await settle()
        open_menu(gui)
        again = gui.tray.server_actions("Server 1")
        assert not again["Copy access token"].isEnabled()
        assert not again["Refresh now"].isEnabled()
        again["Sign in"].trigger()
        await until(lambda: manager.get(sid).state is ServerState.SIGNED_IN, what="signed in")

    run(gui.loop, scenario())


def test_icon_shows_the_overall_state(make_gui: Any) -> None:
    manager = FakeManager()
    a, b = manager.seed(2)
    gui = make_gui(manager)

    async def scenario() -> None:
        assert gui.tray.state is OverallState.OK
        manager.set_state(a, ServerState.SIGN_IN_NEEDED)
        await until(lambda: gui.tray.state is OverallState.ATTENTION)
        manager.set_state(b, ServerState.ERROR, last_error="The server is down")
        await until(lambda: gui.tray.state is OverallState.ERROR)
        tip = gui.tray.toolTip()
        assert tip.startswith("MCP Auth Desktop — Server 2 needs you now"), tip
        assert "Server 2: The server is down" in tip and "Server 1: the sign-in has ended" in tip
        manager.set_state(b, ServerState.SIGNED_IN)
        manager.set_state(a, ServerState.SIGNED_IN)
        await until(lambda: gui.tray.state is OverallState.OK)
        assert "2 of 2 server(s) signed in" in gui.tray.toolTip()

    run(gui.loop, scenario())


def test_the_starting_tray_says_so_until_it_is_attached(make_gui: Any) -> None:
    """app.main shows the icon before the window's modules load: never "all fine" then."""
    from mcp_auth_desktop.gui.tray import STARTING_TOOLTIP, TrayIcon

    gui = make_gui(seed=2)  # the bridge, actions and window the app attaches afterwards
    opened: list[int] = []
    tray = TrayIcon()
    try:
        tray.show()
        assert tray.isVisible() and tray.state is OverallState.ATTENTION
        assert tray.toolTip() == STARTING_TOOLTIP
        tray.menu.aboutToShow.emit()
        assert [a.text() for a in tray.menu.actions() if not a.isSeparator()] == ["Open window", "Quit"]
        assert tray.server_names() == []
        tray.attach(gui.bridge, gui.actions, gui.prefs, on_open=lambda: opened.append(1))
        assert tray.toolTip() != STARTING_TOOLTIP and "2 server(s)" in tray.toolTip()
        tray.menu.aboutToShow.emit()
        assert tray.server_names() == ["Server 1", "Server 2"]
        open_action = next(a for a in tray.menu.actions() if a.text() == "Open window")
        open_action.trigger()
        assert opened == [1]
    finally:
        tray.hide()
