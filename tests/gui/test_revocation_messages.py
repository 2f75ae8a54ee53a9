"""After Revoke or Remove the window says exactly what happened at the server (issue 16).

The real manager and a real mock process: revoked (both tokens), failed and
retried (the server stopped), nothing to revoke, and on removal whether the
client registration was deleted.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.bridge import AddServerRequest
from tests.gui.conftest import Gui, run, until
from tests.gui.real_manager_fixtures import running
from tests.mock.helpers import MockProcess, start_mock_process

pytestmark = pytest.mark.e2e


async def signed_in(gui: Gui, url: str, name: str) -> str:
    view = await gui.bridge.add_server(AddServerRequest(
        url=url, name=name, options=ServerOptions(allow_insecure_loopback=True)))
    assert view is not None
    gui.bridge.sign_in(view.id)
    await until(lambda: gui.manager.get(view.id).state is ServerState.SIGNED_IN, within=30,
                what=f"{name} signed in")
    return view.id


async def report_text(gui: Gui, task: Any) -> str:
    window = gui.window
    window.report_box = None
    window.bridge.spawn(window._report_when_done(task, "Revocation"))
    await until(lambda: window.report_box is not None, within=20, what="report box")
    text = window.report_box.text()
    window.report_box.close()
    return text


@pytest.mark.allow_warning_logs  # the failed revocation is logged as a warning, as it should be
def test_revoke_and_remove_say_what_happened_at_the_server(real_gui: Gui, mock: MockProcess) -> None:
    gui = real_gui
    gui.prefs.set_local(notifications=False)
    doomed = start_mock_process("--auto-approve")

    async def scenario() -> None:
        sid = await signed_in(gui, mock.mcp_url, "Mock")
        text = await report_text(gui, gui.bridge.revoke(sid))
        assert text == "Revocation: Tokens revoked at the server.", text
        # Revoking again: nothing was there to revoke, and it says so.
        text = await report_text(gui, gui.bridge.revoke(sid))
        assert text == "Revocation: Nothing to revoke: not signed in.", text

        gone = await signed_in(gui, doomed.mcp_url, "Gone")
        doomed.stop()  # the server goes away: the revocation fails and is queued
        text = await report_text(gui, gui.bridge.revoke(gone))
        assert text.startswith("Revocation: Revocation failed ("), text
        assert text.endswith("): it will be retried in the background."), text
        assert gui.manager.get(gone).pending_revocation

        # Remove after a fresh sign-in: revoked, and the dynamic registration deleted (RFC 7592).
        gui.bridge.sign_in(sid)
        await until(lambda: gui.manager.get(sid).state is ServerState.SIGNED_IN, within=30)
        text = await report_text(gui, gui.bridge.remove(sid))
        assert text == "Revocation: Tokens revoked at the server; client registration deleted.", text

    try:
        run(gui.loop, running(gui, scenario), timeout=120)
    finally:
        doomed.stop()
