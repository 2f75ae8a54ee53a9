"""The tray tells the truth about real servers (issue 16): the real manager, a real mock process.

The mock is told to fail refreshes (``fail_next``); the tray must leave green,
name the server, how many refreshes failed and since when, and come back to
green only once a refresh succeeds. Signing out (revoked) is not "all fine".
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mcp_auth_desktop.core.health import REPEATED_FAILURES
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.icons import OverallState
from mcp_auth_desktop.gui.server_model import Column
from tests.gui.conftest import Gui, run, until
from tests.gui.real_manager_fixtures import running
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.e2e


def test_account_then_repeated_refresh_failures_and_sign_out_turn_the_tray_from_green(
        real_gui: Gui, mock: MockProcess) -> None:
    gui = real_gui
    gui.prefs.set_local(notifications=False)

    async def scenario() -> None:
        view = await gui.bridge.add_server(AddServerRequest(
            url=mock.mcp_url, name="Mock", options=ServerOptions(allow_insecure_loopback=True)))
        assert view is not None
        sid = view.id
        gui.bridge.sign_in(sid)
        await until(lambda: gui.manager.get(sid).state is ServerState.SIGNED_IN, within=30,
                    what="signed in")
        # The account signed in as: in the row and in the details (issue 16).
        gui.window.select_server(sid)
        model = gui.window.model
        await until(lambda: model.index(model.row_of(sid), int(Column.ACCOUNT)).data() != "—",
                    within=3, what="account cell")
        assert "account" in gui.window.details.fields
        # The mock's access token is a JWT naming its --subject (default demo-user); no ID token.
        cell = model.index(model.row_of(sid), int(Column.ACCOUNT))
        assert cell.data() == "demo-user (unverified)"
        assert cell.data(Qt.ItemDataRole.ToolTipRole) == (
            "<qt>Signed in as demo-user (from the access token, unverified)</qt>")
        assert gui.window.details.fields["account"].text() == (
            "demo-user (from the access token, unverified)")
        # The log names the server once per line (no "Mock: Signed in to Mock.").
        lines = gui.window.log_view.lines()
        assert any(line.endswith("Signed in to Mock.") for line in lines), lines
        assert not any("Mock: Signed in to Mock" in line for line in lines), lines
        gui.tray.update_state()
        assert gui.tray.state is OverallState.OK, gui.tray.toolTip()
        assert "all servers are fine" in gui.tray.toolTip()

        mock.control(knobs={"fail_next": REPEATED_FAILURES, "fail_with": "503"})
        for attempt in range(1, REPEATED_FAILURES + 1):
            await gui.bridge.refresh(sid)
            assert gui.manager.get(sid).refresh_failures == attempt
            if gui.window.error_box is not None:
                gui.window.error_box.close()
        await until(lambda: gui.tray.state is OverallState.ATTENTION, within=3,
                    what=f"attention: {gui.tray.toolTip()}")
        tip = gui.tray.toolTip()
        assert tip.startswith("MCP Auth Desktop — Mock needs attention"), tip
        assert f"Mock: failed to refresh {REPEATED_FAILURES} times in a row since " in tip, tip
        assert "temporarily_unavailable: injected failure" in tip, tip
        assert gui.manager.get(sid).state is ServerState.SIGNED_IN  # the state alone says fine

        await gui.bridge.refresh(sid)  # the server works again
        await until(lambda: gui.tray.state is OverallState.OK, within=3, what="green again")
        assert gui.manager.get(sid).refresh_failures == 0

        await gui.bridge.revoke(sid)
        await until(lambda: gui.tray.state is OverallState.ATTENTION, within=3, what="signed out")
        assert "Mock: signed out" in gui.tray.toolTip()

    run(gui.loop, running(gui, scenario), timeout=90)
