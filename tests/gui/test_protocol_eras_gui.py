"""Issue 13 interop, GUI half: the Test button against third-party MCP servers in both eras.

The servers, their OAuth gateway and the mock authorization server are those of
tests/interop/test_protocol_eras.py (tests/interop/era_servers.py); here the REAL
manager, window and details panel sign in and press Test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.mcp.era import ProtocolEra
from mcp_auth_desktop.core.mcp.memory import STATUS_KEY
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.self_test import HeadlessBrowser
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.gui.conftest import Gui, run, settle, until
from tests.interop.era_servers import EraServer, era_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(params=["everything", "python-sdk", "ts-sdk"])
def server(request: pytest.FixtureRequest) -> Iterator[EraServer]:
    with era_server(request.param) as s:
        yield s


@pytest.fixture
def settings() -> MemorySettings:
    return MemorySettings()


@pytest.fixture
def real_gui(make_gui: Any, loop: Any, settings: MemorySettings) -> Iterator[Gui]:
    http = make_http_client()
    browser_http = httpx.AsyncClient(timeout=10, trust_env=False)
    browser = HeadlessBrowser(browser_http)
    manager = TokenManager(http=http, vault=MemoryVault(), settings=settings)
    holder: list[Gui] = []
    gui = make_gui(manager, url_opener=lambda url: holder[0].bridge.spawn(browser.open(url)) and None)
    holder.append(gui)
    yield gui

    async def close() -> None:
        await http.aclose()
        await browser_http.aclose()

    run(loop, close())


def test_test_button_in_each_era(real_gui: Gui, server: EraServer, settings: MemorySettings, qtbot: Any) -> None:
    gui, window = real_gui, real_gui.window
    newest = server.eras[0]

    async def scenario() -> None:
        await gui.manager.start()
        try:
            view = await gui.bridge.add_server(AddServerRequest(
                url=server.url, name=server.key, options=ServerOptions(allow_insecure_loopback=True)))
            assert view is not None
            assert await gui.actions.sign_in(view.id) is not None
            await settle()
            window.select_server(view.id)
            details = window.details
            assert not details.protocol_box.isVisibleTo(window)  # nothing known before the first call
            qtbot.mouseClick(window.toolbar.widgetForAction(window.act_test), Qt.MouseButton.LeftButton)
            await until(lambda: server.tool in details.tool_names(), within=30, what="tools listed")
            await until(lambda: details.protocol_box.isVisibleTo(window), within=5, what="protocol shown")
            assert details.fields["protocol"].text().startswith(f"MCP {newest} (")
            assert details.fields["protocol"].textFormat() == Qt.TextFormat.PlainText
            assert details.fields["mcp_server"].text() not in ("", "none")
            assert "tools" in details.fields["capabilities"].text()
            message = window.statusBar().currentMessage()
            assert f"speaks MCP {newest}" in message and "tool(s)" in message

            # Every older era the server speaks: the era is remembered in the settings document
            # as another process (or an older app) would have stored it; the manager takes it
            # from there, so Test makes no probe and speaks that revision with initialize.
            for older in server.eras[1:]:
                era = ProtocolEra.legacy(older)

                def remember(doc: dict[str, Any], era: ProtocolEra = era) -> None:
                    doc["server_status"][view.id][STATUS_KEY] = {"era": era.to_dict()}

                await settings.update(remember)
                await until(lambda era=era: gui.manager._servers[view.id].status.mcp.era == era,
                            within=10, what="the remembered era taken over by the manager")
                before = len(server.gateway.forwarded)
                qtbot.mouseClick(window.toolbar.widgetForAction(window.act_test), Qt.MouseButton.LeftButton)
                await until(lambda older=older: details.fields["protocol"].text().startswith(f"MCP {older} ("),
                            within=30, what=f"MCP {older} shown")
                assert "initialize" in details.fields["protocol"].text()
                assert server.tool in details.tool_names()
                assert details.fields["mcp_server"].text() not in ("", "none")
                assert "tools" in details.fields["capabilities"].text()
                # The details follow the manager's event; the status bar follows the Test
                # action's own completion a moment later: wait for it rather than race it.
                await until(lambda older=older: f"speaks MCP {older}" in window.statusBar().currentMessage(),
                            within=10, what=f"the Test result for MCP {older} in the status bar")
                assert "tool(s)" in window.statusBar().currentMessage()
                # initialize (+ initialized) and tools/list went to the server: no server/discover probe.
                assert server.gateway.forwarded[before:].count("POST") == 3
        finally:
            await gui.bridge.aclose()
            await gui.manager.aclose()

    run(gui.loop, scenario(), timeout=90)
