"""The window and the tray driving the REAL TokenManager against a REAL mock server process.

The fake manager makes the other widget tests fast; these make sure the GUI
and the real manager agree: states, events, tokens on the clipboard,
revocation seen by the server, removal. The "browser" is the self-test's
headless stand-in: it requests the authorization URL (the mock server
auto-approves) and delivers the redirect to the app's loopback listener.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from mcp_auth_desktop.core.state import ServerState
from tests.gui.conftest import Gui, run, settle, until
from tests.gui.real_manager_fixtures import running
from tests.mock.helpers import MockProcess, start_mock_process

pytestmark = pytest.mark.e2e


def stat(mock: MockProcess, name: str) -> int:
    return int(mock.control()["stats"].get(name, 0))


def test_every_button_against_the_real_manager(real_gui: Gui, mock: MockProcess, qtbot: Any) -> None:
    gui, window = real_gui, real_gui.window
    gui.prefs.set_local(clipboard_clear_seconds=0.5)
    clipboard = QGuiApplication.clipboard()

    def state() -> ServerState | None:
        view = window.selected_view()
        return view.state if view else None

    def press(action: Any) -> None:
        button = window.toolbar.widgetForAction(action)
        assert button.isEnabled(), action.text()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    async def scenario() -> None:
        # Add server: validated as typed, discovery runs, the row appears.
        dialog = window.open_add_dialog()
        qtbot.keyClicks(dialog.url, mock.mcp_url)
        assert not dialog.add_button.isEnabled()  # http needs the advanced option
        dialog.advanced.setChecked(True)
        dialog.allow_insecure_loopback.setChecked(True)
        qtbot.keyClicks(dialog.name, "Mock")
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await until(lambda: window.add_dialog is None, within=20, what="added")
        await until(lambda: state() is ServerState.NEEDS_SIGN_IN, within=5, what="discovered")
        assert window.details.fields["issuer"].text() == mock.issuer
        assert window.details.trail.toPlainText().strip()

        # Sign in (browser stand-in), then the details show the registration.
        press(window.act_sign_in)
        await until(lambda: state() is ServerState.SIGNED_IN, within=30,
                    what=f"signed in {gui.browser.errors}")  # type: ignore[attr-defined]
        assert window.details.fields["registration"].text().startswith("dynamic client")
        assert window.details.fields["redirect_uri"].text().startswith("http://127.0.0.1:")
        assert gui.tray.state.value == "ok"

        # Refresh now: one refresh_token grant at the server.
        before = stat(mock, "token_requests:refresh_token")
        press(window.act_refresh)
        await until(lambda: stat(mock, "token_requests:refresh_token") == before + 1, within=20)
        await until(lambda: (window.selected_view().last_refresh_result or "") != "", within=10)

        # Copy token: a JWT lands on the clipboard and is cleared later.
        press(window.act_copy)
        await until(lambda: clipboard.text().count(".") == 2, within=10, what="token copied")
        token = clipboard.text()
        await until(lambda: clipboard.text() == "", within=5, what="clipboard cleared")
        assert token not in window.log_view.toPlainText()

        # Tray menu lists the server; its Copy works too.
        gui.tray.menu.aboutToShow.emit()
        assert gui.tray.server_names() == ["Mock"]
        gui.tray.server_actions("Mock")["Copy access token"].trigger()
        await until(lambda: clipboard.text().count(".") == 2, within=10, what="tray copy")

        # Revoke: the server sees it.
        revoked = stat(mock, "revocations")
        press(window.act_revoke)
        await until(lambda: state() is ServerState.REVOKED, within=20)
        assert stat(mock, "revocations") > revoked
        await until(lambda: window.report_box is not None, within=5)
        assert "Tokens revoked at the server" in window.report_box.text()
        window.report_box.close()

        # Sign in again, then Remove (with confirmation): the row is gone.
        press(window.act_sign_in)
        await until(lambda: state() is ServerState.SIGNED_IN, within=30)
        press(window.act_remove)
        window.confirm_box.button(QMessageBox.StandardButton.Yes).click()
        await until(lambda: window.model.rowCount() == 0, within=20, what="row gone")
        await until(lambda: window.report_box is not None, within=5)
        assert "Tokens revoked at the server" in window.report_box.text()
        window.report_box.close()
        await settle()
        gui.tray.menu.aboutToShow.emit()
        assert gui.tray.server_names() == []

    run(gui.loop, running(gui, scenario), timeout=120)


@pytest.fixture
def short_lived_mock() -> Iterator[MockProcess]:
    server = start_mock_process("--auto-approve", "--access-token-ttl", "6")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.allow_warning_logs  # the manager warns when a grant is lost: that is the point
def test_background_refresh_and_lost_grant_reach_the_window_and_tray(
        real_gui: Gui, short_lived_mock: MockProcess) -> None:
    from mcp_auth_desktop.core.models import ServerOptions
    from mcp_auth_desktop.gui.bridge import AddServerRequest

    gui, window, mock = real_gui, real_gui.window, short_lived_mock

    async def scenario() -> None:
        view = await gui.bridge.add_server(AddServerRequest(
            url=mock.mcp_url, name="Short", options=ServerOptions(allow_insecure_loopback=True)))
        assert view is not None
        assert await gui.actions.sign_in(view.id) is not None
        first_expiry = gui.manager.get(view.id).expires_at
        # The manager refreshes ahead of expiry on its own; the log and the row follow.
        await until(lambda: any("tokens refreshed" in line for line in window.log_view.lines()),
                    within=15, what="background refresh")
        await until(lambda: (window.model.view_at(0).expires_at or 0) > (first_expiry or 0), within=5)
        # The grant disappears at the server: the next refresh fails for good.
        # (Refresh now, rather than waiting for the scheduler's next turn.)
        mock.control(knobs={"fail_next": 5, "fail_with": "invalid_grant"})
        gui.actions.refresh(view.id)
        await until(lambda: gui.tray.state.value == "attention", within=15,
                    what=f"attention; log: {window.log_view.lines()[-6:]}")
        # The tray's own 2 s tick reads the manager directly; the row follows the bridge's
        # coalesced flush (40 ms), so it may be a moment behind the icon, never stuck.
        await until(lambda: window.model.view_at(0).state is ServerState.SIGN_IN_NEEDED,
                    within=3, what=f"row says sign-in needed: {window.model.view_at(0).state}")
        await until(lambda: bool(gui.tray.notifications_shown), within=3, what="notification")
        assert "needs you to sign in" in gui.tray.notifications_shown[0][0]
        if window.error_box is not None:
            window.error_box.close()

    run(gui.loop, running(gui, scenario), timeout=60)


def test_test_button_lists_the_servers_tools(real_gui: Gui, mock: MockProcess, qtbot: Any) -> None:
    from mcp_auth_desktop.core.models import ServerOptions
    from mcp_auth_desktop.gui.bridge import AddServerRequest

    gui, window = real_gui, real_gui.window

    async def scenario() -> None:
        view = await gui.bridge.add_server(AddServerRequest(
            url=mock.mcp_url, name="Tools", options=ServerOptions(allow_insecure_loopback=True)))
        assert view is not None
        assert await gui.actions.sign_in(view.id) is not None
        await settle()
        window.select_server(view.id)
        button = window.toolbar.widgetForAction(window.act_test)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        await until(lambda: "echo" in window.details.tool_names(), within=20, what="tools listed")
        assert {"echo", "whoami", "list_notes"} <= set(window.details.tool_names())
        assert "tool(s)" in window.statusBar().currentMessage()

    run(gui.loop, running(gui, scenario), timeout=60)


def test_forget_everything_revokes_at_the_server_and_closes_the_app(
        real_gui: Gui, mock: MockProcess, qtbot: Any) -> None:
    from mcp_auth_desktop.core.models import ServerOptions
    from mcp_auth_desktop.gui.bridge import AddServerRequest

    gui, window = real_gui, real_gui.window

    async def scenario() -> None:
        view = await gui.bridge.add_server(AddServerRequest(
            url=mock.mcp_url, name="Doomed", options=ServerOptions(allow_insecure_loopback=True)))
        assert view is not None
        assert await gui.actions.sign_in(view.id) is not None
        assert await gui.manager._vault.names()
        revoked = stat(mock, "revocations")
        window.act_forget.trigger()
        await until(lambda: window.confirm_box is not None, what="confirmation")
        window.confirm_box.hide()  # stands for the user's click on the button below
        window.forget_revoke_button.click()
        await until(lambda: window.model.rowCount() == 0, within=20, what="rows gone")
        await until(lambda: window.report_box is not None and window.report_box.isVisible(),
                    within=10, what="report")
        assert "Doomed: Tokens revoked at the server" in window.report_box.text()
        assert stat(mock, "revocations") > revoked
        assert await gui.manager._vault.names() == []
        assert gui.quit_requests == []
        window.report_box.close()
        await until(lambda: gui.quit_requests == [1], what="app closes after forgetting")

    run(gui.loop, running(gui, scenario), timeout=60)
