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

import pytest

from mcp_auth_desktop.core.state import ServerState
from tests.gui.conftest import Gui, run, until
from tests.gui.real_manager_fixtures import HANG, WatcherPolls, cli, running
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.e2e


def row_names(gui: Gui) -> list[str]:
    model = gui.window.model
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_cli_add_refresh_and_remove_show_in_the_open_window(
        file_gui: Gui, watcher: WatcherPolls, mock: MockProcess) -> None:
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
