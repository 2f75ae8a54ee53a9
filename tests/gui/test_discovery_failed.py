"""A server whose discovery failed says so, with the real cause, now and after a restart (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.gui.conftest import run, until
from tests.hostile_server import closed_port

pytestmark = pytest.mark.e2e


@pytest.mark.allow_warning_logs
def test_failed_discovery_shows_error_and_cause_not_new(make_gui: Any, loop: Any) -> None:
    port = closed_port()
    cause = f"Connection refused by 127.0.0.1:{port}"
    settings, vault = MemorySettings(), MemoryVault()
    http = make_http_client()
    manager = TokenManager(http=http, vault=vault, settings=settings)
    gui = make_gui(manager)
    window = gui.window

    async def scenario() -> None:
        await manager.start()
        try:
            view = await manager.add_server(f"http://127.0.0.1:{port}/mcp", name="Down",
                                            options=ServerOptions(allow_insecure_loopback=True),
                                            discover=False)
            await until(lambda: window.model.rowCount() == 1, what="row")
            window.select_server(view.id)
            assert window.details.trail.toPlainText() == "Discovery has not run yet."
            window.sign_in_selected()  # runs discovery first, which fails
            await until(lambda: cause in window.details.fields["error"].text(), within=10,
                        what="cause in the details")
            assert window.details.fields["state"].text() == "error"
            assert window.details.trail.toPlainText().startswith(f"Discovery failed: {cause}")
            if window.error_box is not None:
                window.error_box.close()
        finally:
            await gui.bridge.aclose()
            await manager.aclose()
        # The app started again (or another process) on the same storage: still the truth.
        again = TokenManager(http=http, vault=vault, settings=settings)
        await again.start(background=False)
        try:
            restarted = again.get("Down")
            assert restarted.state is ServerState.ERROR, restarted.state
            assert cause in (restarted.last_error or "")
        finally:
            await again.aclose()
            await http.aclose()

    run(loop, scenario(), timeout=40)
