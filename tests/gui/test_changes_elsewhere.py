"""Changes made by another process show in the open window within 2 seconds (issue 16).

The window runs on the REAL manager with file storage (a passphrase vault in a
temporary home); real ``mcp-auth`` processes share that home and add, refresh
and remove a server signed in at a real mock server process.

What makes "within 2 s" hold is asserted by counting, so a loaded machine cannot fail it:
the settings watcher polls the file at least four times in those 2 s, and each change
reaches the window from the first poll that could see it (no poll missed, none skipped),
with nothing else to wait for. The wall-clock bounds here only end a hang.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.self_test import HeadlessBrowser
from mcp_auth_desktop.storage import open_storage_async
from tests.gui.conftest import Gui, run, until
from tests.gui.test_real_manager import mock, running  # noqa: F401 - fixture
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "changes elsewhere passphrase"
#: What the issue asks: another process's change is on screen within this many seconds.
WITHIN = 2.0
#: How long to wait before calling it a hang (not a speed figure: a loaded machine is slow).
HANG = 30.0


class WatcherPolls:
    """Counts the settings watcher's polls of the file, and notes at which poll it
    reported each change (what the manager's reconcile then shows)."""

    def __init__(self, settings: Any) -> None:
        self.polls = 0
        self.reported_at: list[int] = []
        read, watch = settings._safe_raw, settings.watch

        def counted_read() -> Any:  # runs in a worker thread, one poll at a time
            self.polls += 1
            return read()

        async def counted_watch() -> Any:
            async for doc in watch():
                self.reported_at.append(self.polls)
                yield doc

        settings._safe_raw = counted_read  # watch() reads through self._safe_raw
        settings.watch = counted_watch

    def reports(self) -> int:
        """How many changes were reported so far (take it before the other process starts)."""
        return len(self.reported_at)

    def assert_reported_by_the_next_poll(self, reports: int, polls_at_exit: int) -> None:
        """The first change reported since ``reports`` came from a poll that started before
        the other process ended (``polls_at_exit``) or from the one after: never later."""
        after = self.reported_at[reports:]
        assert after, "the watcher reported no change"
        assert after[0] <= polls_at_exit + 1, (polls_at_exit, after)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(home))
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", PASSPHRASE)
    return home


#: The watcher counts of each file_gui (the fixture other test modules import alone).
_WATCHERS: dict[int, WatcherPolls] = {}


@pytest.fixture
def file_gui(make_gui: Any, loop: Any, home: Path) -> Iterator[Gui]:
    vault, settings = run(loop, open_storage_async())
    # The 2 s: the file is polled at least four times in them.
    assert settings.poll_interval <= WITHIN / 4
    watcher = WatcherPolls(settings)
    http = make_http_client()
    browser_http = httpx.AsyncClient(timeout=10, trust_env=False)
    browser = HeadlessBrowser(browser_http)
    manager = TokenManager(http=http, vault=vault, settings=settings)
    holder: list[Gui] = []
    gui = make_gui(manager, url_opener=lambda url: holder[0].bridge.spawn(browser.open(url)) and None)
    holder.append(gui)
    _WATCHERS[id(gui)] = watcher
    yield gui
    _WATCHERS.pop(id(gui), None)

    async def close() -> None:
        await http.aclose()
        await browser_http.aclose()
        await vault.aclose()

    run(loop, close())


async def cli(*args: str) -> str:
    """Run a real ``mcp-auth`` process on the same home; its output, or the failure."""
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
        capture_output=True, text=True, timeout=90, cwd=ROOT, env=dict(os.environ))
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


def row_names(gui: Gui) -> list[str]:
    model = gui.window.model
    return [model.index(r, 0).data() for r in range(model.rowCount())]


@pytest.fixture
def watcher(file_gui: Gui) -> WatcherPolls:
    return _WATCHERS[id(file_gui)]


def test_cli_add_refresh_and_remove_show_in_the_open_window(
        file_gui: Gui, watcher: WatcherPolls, mock: MockProcess) -> None:  # noqa: F811
    gui = file_gui

    async def scenario() -> None:
        # Added by the CLI: the row appears.
        reports = watcher.reports()
        await cli("add", mock.mcp_url, "--name", "Elsewhere", "--allow-insecure-loopback")
        exited = watcher.polls
        await until(lambda: "Elsewhere" in row_names(gui), within=HANG, what="added row")
        watcher.assert_reported_by_the_next_poll(reports, exited)
        view = gui.bridge.get(gui.manager.get("Elsewhere").id)
        assert view is not None and view.state is ServerState.NEEDS_SIGN_IN
        sid = view.id

        gui.bridge.sign_in(sid)
        await until(lambda: gui.manager.get(sid).state is ServerState.SIGNED_IN, within=30,
                    what="signed in in the app")
        gui.window.select_server(sid)
        before = gui.bridge.get(sid)
        assert before is not None and before.expires_at is not None
        await asyncio.sleep(1.1)  # the refreshed token's expiry differs by at least a second

        # Refreshed by the CLI: the window shows the new expiry and the refresh time.
        reports = watcher.reports()
        await cli("refresh", "Elsewhere")
        exited = watcher.polls

        def refreshed() -> bool:
            shown = gui.window.selected_view()  # what the window shows, not the manager
            return (shown is not None and shown.expires_at is not None
                    and shown.expires_at > (before.expires_at or 0)
                    and gui.window.details.fields["last_refresh"].text().endswith("— ok"))

        await until(refreshed, within=HANG, what=f"refresh seen: {gui.window.selected_view()}")
        watcher.assert_reported_by_the_next_poll(reports, exited)
        # ...and what any process reads: `mcp-auth status` names the refresh too.
        status = await cli("status", "Elsewhere")
        line = next(ln for ln in status.splitlines() if ln.startswith("Last refresh"))
        assert line.rstrip().endswith(" ok") and " - " not in line, line

        # Removed by the CLI: the row goes.
        reports = watcher.reports()
        await cli("remove", "Elsewhere")
        exited = watcher.polls
        await until(lambda: "Elsewhere" not in row_names(gui), within=HANG, what="row removed")
        watcher.assert_reported_by_the_next_poll(reports, exited)

    run(gui.loop, running(gui, scenario), timeout=150)
