"""The real app (DesktopApp, real storage, real manager) and real `mcp-auth bridge` processes.

A bridge that finds no token asks the running app, over its single-instance channel, to sign
in; the app does (the "browser" follows the mock's auto-approved authorization URL) and the
bridge's next request works. The window shows, per server, how many bridges are connected:
bridges killed with SIGKILL stop counting, as do bridges whose client closed stdin (exit 0)
or that were sent SIGTERM (exit 0).
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_auth_desktop.bridge import appipc
from mcp_auth_desktop.bridge.presence import bridges_dir
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.app import DesktopApp, build_parser
from mcp_auth_desktop.gui.server_model import Column
from mcp_auth_desktop.gui.single_instance import SingleInstance
from tests.bridge.helpers import Home, RawBridge, make_home
from tests.gui.conftest import run, started, until
from tests.mock.helpers import MockProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture
def home(tmp_path: Path, mock: MockProcess, monkeypatch: pytest.MonkeyPatch) -> Home:
    h = make_home(tmp_path)
    r = h.cli("add", mock.mcp_url, "--name", "mock", "--allow-insecure-loopback")
    assert r.returncode == 0, r.stderr
    for key in ("MCP_AUTH_DESKTOP_HOME", "MCP_AUTH_DESKTOP_KEYRING", "MCP_AUTH_DESKTOP_PASSPHRASE",
                "BROWSER", "BRIDGE_BROWSER_LOG"):
        monkeypatch.setenv(key, h.env[key])
    return h


def state_text(desktop: DesktopApp) -> str:
    assert desktop.window is not None
    model = desktop.window.model
    return str(model.data(model.index(0, Column.STATE)))


def test_bridges_ask_the_app_to_sign_in_and_the_window_counts_them(
    qapp: Any, loop: Any, home: Home, mock: MockProcess
) -> None:
    instance = SingleInstance()
    assert instance.listen()
    desktop = DesktopApp(qapp, build_parser().parse_args([]), instance=instance,
                         http_factory=lambda: httpx.AsyncClient())
    bridges: list[RawBridge] = []

    def counted(n: int) -> bool:
        assert desktop.window is not None
        desktop.window.bridge_counter.poll()
        suffix = f" · {n} bridge{'s' if n != 1 else ''}" if n else ""
        text = state_text(desktop)
        details = desktop.window.details.fields["bridges"].text()
        return text.endswith(suffix) and (" · " not in text if n == 0 else True) and (
            details.startswith(f"{n} (") if n else details == "none")

    async def scenario() -> None:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: started(desktop), 15, "window")
        assert desktop.window is not None
        desktop.window.table.selectRow(0)
        server_id = desktop.manager.servers()[0].id
        assert desktop.manager.servers()[0].state is not ServerState.SIGNED_IN

        first = RawBridge(home)
        bridges.append(first)
        reply = await asyncio.to_thread(first.initialize)
        message = reply["error"]["message"]
        assert reply["error"]["code"] == -32001
        assert "MCP Auth Desktop was asked to open the sign-in page" in message
        assert "mcp-auth login mock" in message
        # The app signs in (its browser: the mock auto-approves).
        await until(lambda: desktop.manager.get(server_id).state is ServerState.SIGNED_IN, 30,
                    "the app's sign-in")
        assert home.browser_opened() == 1
        reply = await asyncio.to_thread(first.initialize)
        assert reply["result"]["serverInfo"]["name"] == "mcp-auth-mock-server"
        call = await asyncio.to_thread(first.request, "tools/call",
                                       {"name": "echo", "arguments": {"text": "hi"}})
        assert call["result"]["content"][0]["text"] == "hi"

        await until(lambda: counted(1), 10, "one bridge shown")
        bridges.extend(RawBridge(home) for _ in range(2))
        for b in bridges[1:]:
            assert "result" in await asyncio.to_thread(b.initialize)
        await until(lambda: counted(3), 10, "three bridges shown")

        os.kill(bridges[1].proc.pid, signal.SIGKILL)  # no chance to clean up
        await asyncio.to_thread(bridges[1].proc.wait, 10)
        await until(lambda: counted(2), 10, "a killed bridge no longer counted")
        leftovers = [p.name for p in bridges_dir().iterdir() if str(bridges[1].proc.pid) in p.name]
        assert leftovers == []  # its registration was cleaned up

        assert await asyncio.to_thread(bridges[2].close_stdin) == 0
        await until(lambda: counted(1), 10, "a bridge whose client left")
        bridges[0].proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(bridges[0].proc.wait, 15) == 0
        await until(lambda: counted(0), 10, "no bridge")
        assert home.browser_opened() == 1  # the bridge itself opened nothing

        desktop.request_quit()
        await asyncio.wait_for(task, 20)

    try:
        run(loop, scenario(), timeout=150)
    finally:
        for b in bridges:
            b.stop()


def test_a_step_up_request_reaches_the_app_with_its_scopes(qtbot: Any, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(tmp_path))
    instance = SingleInstance()
    assert instance.listen()
    try:
        with qtbot.waitSignal(instance.signInRequested, timeout=5000) as signal_:
            assert appipc.ask_app_to_sign_in("abc123", ("mcp:write", "notes:share"))
        assert signal_.args == ["abc123", ["mcp:write", "notes:share"]]
        with qtbot.waitSignal(instance.showRequested, timeout=5000):
            assert instance.ask_running_instance()  # a second launch still works the same way
    finally:
        instance.close()
