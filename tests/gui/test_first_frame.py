"""The first frame comes from the settings alone; the manager takes over right after.

Issue 17 "Faster start": the window and the tray are shown from the non-secret
settings before the HTTP stack and the TokenManager are loaded; the rows are then
handed to the real manager. Servers come from a real settings file written by the
real manager; secrets stay in memory (``MCP_AUTH_DESKTOP_KEYRING=memory``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.app import FIRST_FRAME_MARKER, READY_MARKER, DesktopApp, build_parser
from tests.gui.conftest import run, settle, started, until

REPO = Path(__file__).resolve().parents[2]
NAMES = ("Alpha", "Beta", "Gamma")


def _prepare(home: Path) -> None:
    """Three servers in a real settings file, as the real manager writes them."""

    async def write() -> None:
        from mcp_auth_desktop.storage import open_storage

        vault, settings = open_storage(home)
        async with httpx.AsyncClient() as http:
            manager = TokenManager(http=http, vault=vault, settings=settings)
            await manager.start(background=False)
            for i, name in enumerate(NAMES):
                await manager.add_server(f"http://127.0.0.1:{21000 + i}/mcp", name=name,
                                         options=ServerOptions(allow_insecure_loopback=True),
                                         discover=False)
            await manager.aclose()
        await vault.aclose()

    # Its own thread and loop: the test's qasync loop is not running yet.
    worker = threading.Thread(target=lambda: asyncio.run(write()))
    worker.start()
    worker.join(60)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(home))
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "memory")
    _prepare(home)
    return home


def test_first_frame_is_shown_before_the_http_stack_and_the_manager_load(home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mcp_auth_desktop", "--exit-after-start"],
                          cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ}, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(FIRST_FRAME_MARKER))
    ready = next(i for i, line in enumerate(lines) if line.startswith(READY_MARKER))
    assert first < ready
    assert "servers=3" in lines[first] and "tray=1" in lines[first]
    assert "httpx=0" in lines[first] and "manager=0" in lines[first]
    assert "cryptography=0" in lines[first] and "keyring=0" in lines[first]
    # Shown before the event loop is made (gui/entry.py defers asyncio, app.main shows first).
    assert "asyncio=0" in lines[first] and "ssl=0" in lines[first] and "qasync=0" in lines[first]
    assert "servers=3" in lines[ready] and "tray=1" in lines[ready]


def test_rows_from_the_settings_then_from_the_manager(qapp: Any, loop: Any, home: Path) -> None:
    gate = asyncio.Event()
    made: list[TokenManager] = []

    class GatedManager(TokenManager):
        async def start(self, *, background: bool = True) -> None:
            await gate.wait()  # holds the runtime back after the first frame
            await super().start(background=background)

    def factory(**deps: Any) -> TokenManager:
        made.append(GatedManager(**deps))
        return made[-1]

    desktop = DesktopApp(qapp, build_parser().parse_args([]), manager_factory=factory,
                         http_factory=lambda: httpx.AsyncClient())
    failures: list[tuple[str, str, str]] = []

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: desktop.first_frame_seconds is not None, within=30, what="first frame")
        assert desktop.bridge is not None and desktop.window is not None
        desktop.bridge.actionFailed.connect(lambda *a: failures.append(a))
        # The first frame: every server from the settings, no manager yet (the vault opens
        # after the first frame, then the manager is made and held at its start).
        await until(lambda: bool(made), within=30, what="manager made")
        assert desktop.manager is None and made and desktop.startup_seconds is None
        assert sorted(v.name for v in desktop.bridge.servers()) == sorted(NAMES)
        assert desktop.window.model.rowCount() == 3
        assert desktop.tray is not None and desktop.tray.isVisible()
        sid = desktop.bridge.servers()[0].id
        await desktop.bridge.refresh(sid)  # refused with words, not lost
        assert failures and "still loading" in failures[-1][2]
        gate.set()
        await until(lambda: started(desktop), within=30, what="start")
        await settle()
        assert desktop.manager is made[0]
        assert {v.id for v in desktop.bridge.servers()} == {v.id for v in made[0].servers()}
        assert desktop.window.model.rowCount() == 3
        assert all(v.state is ServerState.NEW for v in desktop.bridge.servers())
        desktop.request_quit()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario(), timeout=60) == 0
    assert desktop.http is not None and desktop.http.is_closed
