"""The window, the REAL manager and two REAL mock authorization servers: a migration in the app.

After signing in at A, the resource moves to B (tests/manager/test_migration.py). **Test**
then fails (it never opens a browser by itself) but looks again, so the log says the server
now uses B and the details show B; **Sign in** goes to B, and the log says the old sign-in
was revoked and the old registration deleted at A; **Test** lists the tools again.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from tests.gui.conftest import run, until
from tests.gui.real_manager_fixtures import running
from tests.manager.test_migration import Pair, pair, stat  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e


@pytest.mark.allow_warning_logs  # "sign-in needed … refused the token": what happens here
def test_migration_is_seen_by_test_and_finished_by_sign_in(real_gui: Any, pair: Pair, qtbot: Any) -> None:  # noqa: F811
    gui, window = real_gui, real_gui.window

    def press(action: Any) -> None:
        button = window.toolbar.widgetForAction(action)
        assert button.isEnabled(), action.text()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def state() -> ServerState | None:
        view = window.selected_view()
        return view.state if view else None

    def log() -> str:
        return window.log_view.toPlainText()

    async def scenario() -> None:
        view = await gui.manager.add_server(pair.a.mcp_url, name="Moving",
                                            options=ServerOptions(allow_insecure_loopback=True))
        window.select_server(view.id)
        press(window.act_sign_in)
        await until(lambda: state() is ServerState.SIGNED_IN, within=30, what="signed in at A")

        pair.migrate()
        press(window.act_test)
        await until(lambda: f"now uses the authorization server {pair.b.issuer}" in log(),
                    within=20, what="migration seen")
        await until(lambda: state() in (ServerState.SIGN_IN_NEEDED, ServerState.NEEDS_SIGN_IN),
                    within=10, what="needs sign-in")
        assert window.details.fields["issuer"].text() == pair.b.issuer
        if window.error_box is not None:
            window.error_box.close()

        press(window.act_sign_in)
        await until(lambda: state() is ServerState.SIGNED_IN, within=30, what="signed in at B")
        await until(lambda: "the old sign-in was revoked at" in log(), within=10, what="settled")
        assert f"the old client registration at {pair.a.issuer} was deleted" in log()
        assert stat(pair.a, "clients_deleted") == 1

        press(window.act_test)
        await until(lambda: "tool(s)" in window.statusBar().currentMessage(), within=20,
                    what="tools listed")

    run(gui.loop, running(gui, scenario), timeout=90)
