"""Main window, dialogs and buttons against the contract-shaped FakeManager."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from mcp_auth_desktop.core.errors import InvalidGrantError, TemporarilyUnavailableError
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.clipboard import PASSWORD_HINT_MIME
from mcp_auth_desktop.gui.server_model import SERVER_ID_ROLE, Column, format_expires_in
from tests.gui.conftest import Gui, run, settle, until
from tests.gui.fakes import FakeManager


def click(qtbot: Any, gui: Gui, action: Any) -> None:
    """A real mouse click on the toolbar button of ``action``."""
    button = gui.window.toolbar.widgetForAction(action)
    assert button is not None and button.isEnabled(), action.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def cell(gui: Gui, server_id: str, col: Column) -> str:
    model = gui.window.model
    return str(model.data(model.index(model.row_of(server_id), col)))


def test_format_expires_in() -> None:
    assert format_expires_in(None, 0) == "—"
    assert format_expires_in(100, 100) == "expired"
    assert format_expires_in(142, 100) == "42s"
    assert format_expires_in(100 + 723, 100) == "12m 03s"
    assert format_expires_in(100 + 2 * 3600 + 300, 100) == "2h 05m"
    assert format_expires_in(100 + 3 * 86400 + 4 * 3600, 100) == "3d 4h"


def test_table_lists_servers_with_countdown(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=3)
    model = gui.window.model
    assert model.rowCount() == 3
    ids = [model.data(model.index(r, 0), SERVER_ID_ROLE) for r in range(3)]
    assert cell(gui, ids[0], Column.NAME) == "Server 1"
    assert cell(gui, ids[0], Column.STATE) == "signed in"
    assert cell(gui, ids[0], Column.SCOPES) == "mcp:read mcp:write"
    assert cell(gui, ids[0], Column.AUTH_SERVER) == "https://auth1.example.com"
    assert cell(gui, ids[0], Column.EXPIRES).startswith(("59m", "1h 00m"))
    # The countdown column is repainted every second.
    with qtbot.waitSignal(model.dataChanged, timeout=2500) as sig:
        pass
    top_left = sig.args[0]
    assert top_left.column() == Column.EXPIRES
    # The details panel shows the selected server.
    assert gui.window.details.fields["issuer"].text() == "https://auth1.example.com"
    assert gui.window.details.fields["registration"].text().startswith("dynamic client registration")
    assert "memory" in gui.window.storage_label.text()


def test_add_dialog_validates_as_you_type(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui()
    dialog = gui.window.open_add_dialog()
    assert not dialog.add_button.isEnabled()
    qtbot.keyClicks(dialog.url, "http://mcp.example.com/mcp")
    assert not dialog.add_button.isEnabled()
    assert "https" in dialog.problem.text()
    dialog.url.setText("ftp://x.example")
    assert "https://" in dialog.problem.text()
    dialog.url.setText("http://127.0.0.1:8000/mcp")
    assert not dialog.add_button.isEnabled()
    assert "Advanced" in dialog.problem.text()
    dialog.advanced.setChecked(True)
    dialog.allow_insecure_loopback.setChecked(True)
    assert dialog.add_button.isEnabled(), dialog.problem.text()
    dialog.callback_port.setText("80")
    assert "1024" in dialog.problem.text()
    dialog.callback_port.setText("8765")
    dialog.extra_params.setPlainText("prompt=consent\nbroken")
    assert "name=value" in dialog.problem.text()
    dialog.extra_params.setPlainText("prompt=consent")
    dialog.client_secret.setText("s3cret")
    assert "client id" in dialog.problem.text()
    dialog.client_id.setText("my-client")
    dialog.scopes.setText("read, write read")
    assert dialog.add_button.isEnabled()
    req = dialog.request()
    assert req.scopes == ("read", "write")
    assert req.options.allow_insecure_loopback and req.options.callback_port == 8765
    assert req.options.extra_authorize_params == (("prompt", "consent"),)
    assert req.client_id == "my-client" and "s3cret" not in repr(req)
    # localhost is loopback (RFC 6761) for the core, so for the dialog too (one rule).
    dialog.url.setText("http://localhost:8000/mcp")
    assert dialog.add_button.isEnabled() and not dialog.problem.text()
    dialog.url.setText("http://mcp.example.com/mcp")
    assert "localhost" in dialog.problem.text() and not dialog.add_button.isEnabled()
    dialog.reject()


def test_add_then_sign_in_through_the_buttons(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(FakeManager(delay=0.05))

    async def scenario() -> None:
        dialog = gui.window.open_add_dialog()
        qtbot.keyClicks(dialog.url, "https://tracker.example.com/mcp")
        qtbot.keyClicks(dialog.name, "Tracker")
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        assert dialog.progress.isVisible()
        await until(lambda: not gui.window.busy.isHidden(), what="status bar busy")
        await until(lambda: gui.window.add_dialog is None, what="dialog closes")
        assert gui.window.model.rowCount() == 1
        sid = gui.window.selected_id()
        assert sid is not None
        await settle()
        assert cell(gui, sid, Column.STATE) == "needs sign-in"
        assert gui.tray.state.value == "attention"
        click(qtbot, gui, gui.window.act_sign_in)
        await until(lambda: cell(gui, sid, Column.STATE) == "signing in", what="signing in")
        assert gui.window.act_sign_in.text() == "Cancel sign-in"
        await until(lambda: cell(gui, sid, Column.STATE) == "signed in", what="signed in")
        await settle()
        assert gui.window.busy.isHidden()
        assert gui.tray.state.value == "ok"
        assert gui.window.details.fields["client_id"].text() == "dcr-client-1"
        assert "Signed in to Tracker" in gui.window.statusBar().currentMessage()

    run(gui.loop, scenario())


def test_add_failure_is_shown_in_the_dialog(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=1)
    existing = gui.manager.servers()[0].url

    async def scenario() -> None:
        dialog = gui.window.open_add_dialog()
        dialog.url.setText(existing)
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await until(lambda: "already in your list" in dialog.problem.text(), what="error shown")
        assert gui.window.add_dialog is dialog and dialog.isVisible()
        assert dialog.url.isEnabled()
        assert gui.window.error_box is None  # the dialog says it; no second window

    run(gui.loop, scenario())
    gui.window.add_dialog.reject()


def test_sign_in_can_be_cancelled(make_gui: Any, qtbot: Any) -> None:
    manager = FakeManager(delay=5.0)
    gui = make_gui(manager)
    (sid,) = manager.seed(1, state=ServerState.NEEDS_SIGN_IN)
    gui.bridge.serverAdded.emit(sid)

    async def scenario() -> None:
        gui.window.select_server(sid)
        click(qtbot, gui, gui.window.act_sign_in)
        await until(lambda: cell(gui, sid, Column.STATE) == "signing in")
        click(qtbot, gui, gui.window.act_sign_in)  # now "Cancel sign-in"
        await until(lambda: cell(gui, sid, Column.STATE) == "needs sign-in", what="back")
        assert "cancelled" in gui.window.statusBar().currentMessage()

    run(gui.loop, scenario())


def test_refresh_button_gets_new_tokens(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=2)
    sid = gui.window.selected_id()
    before = gui.manager.token_of(sid)
    old_expiry = gui.manager.get(sid).expires_at

    async def scenario() -> None:
        click(qtbot, gui, gui.window.act_refresh)
        await until(lambda: ("refresh", sid) in gui.manager.calls)
        await until(lambda: gui.window.model.view_at(0).last_refresh_result == "ok")

    run(gui.loop, scenario())
    assert gui.manager.token_of(sid) != before
    assert gui.manager.get(sid).expires_at >= old_expiry
    assert gui.window.details.fields["last_refresh"].text().endswith("— ok")
    assert any("tokens refreshed" in line for line in gui.window.log_view.lines())


def test_copy_token_lands_on_clipboard_marked_secret_and_is_cleared(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=1)
    gui.prefs.set_local(clipboard_clear_seconds=0.3)
    sid = gui.window.selected_id()
    token = gui.manager.token_of(sid)
    clipboard = QGuiApplication.clipboard()

    async def scenario() -> None:
        click(qtbot, gui, gui.window.act_copy)
        await until(lambda: clipboard.text() == token, what="token on clipboard")
        mime = clipboard.mimeData()
        assert bytes(mime.data(PASSWORD_HINT_MIME).data()) == b"secret"
        assert "cleared in 0 s" in gui.window.statusBar().currentMessage() or \
            "copied" in gui.window.statusBar().currentMessage()
        await until(lambda: clipboard.text() == "", within=3, what="clipboard cleared")

    run(gui.loop, scenario())
    # The token never reaches the log view.
    assert token not in gui.window.log_view.toPlainText()
    assert any("access token copied" in line for line in gui.window.log_view.lines())


def test_clipboard_is_left_alone_if_the_user_copied_something_else(make_gui: Any) -> None:
    gui = make_gui(seed=1)
    gui.prefs.set_local(clipboard_clear_seconds=0.2)
    sid = gui.window.selected_id()
    clipboard = QGuiApplication.clipboard()

    async def scenario() -> None:
        assert await gui.actions.copy_token(sid)
        mime = QMimeData()
        mime.setText("my own text")
        clipboard.setMimeData(mime)
        await until(lambda: not gui.clipboard.pending, within=3)

    run(gui.loop, scenario())
    assert clipboard.text() == "my own text"


def test_copy_token_refreshes_first_when_about_to_expire(make_gui: Any) -> None:
    manager = FakeManager()
    (sid,) = manager.seed(1, ttl=20.0)  # expires within the default 120 s margin
    gui = make_gui(manager)
    old = manager.token_of(sid)

    async def scenario() -> None:
        assert await gui.actions.copy_token(sid)

    run(gui.loop, scenario())
    assert ("refresh", sid) in manager.calls
    assert QGuiApplication.clipboard().text() == manager.token_of(sid) != old


def test_test_button_lists_tools(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=1)
    sid = gui.window.selected_id()

    async def scenario() -> None:
        click(qtbot, gui, gui.window.act_test)
        await until(lambda: gui.window.details.tool_names() == ["echo", "add"], what="tools")

    run(gui.loop, scenario())
    assert ("call:tools/list", sid) in gui.manager.calls
    assert gui.window.details.tools.count() == 2
    assert "2 tool(s)" in gui.window.statusBar().currentMessage()


def test_revoke_button_revokes_at_the_server(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=1)
    sid = gui.window.selected_id()
    token = gui.manager.token_of(sid)

    async def scenario() -> None:
        click(qtbot, gui, gui.window.act_revoke)
        await until(lambda: gui.window.report_box is not None, what="report")
        await settle()

    run(gui.loop, scenario())
    assert token in gui.manager.revoked_tokens
    assert cell(gui, sid, Column.STATE) == "revoked"
    assert "Tokens revoked at the server" in gui.window.report_box.text()
    assert not gui.window.act_copy.isEnabled()
    gui.window.report_box.close()


@pytest.mark.parametrize("supported", [True, False])
def test_remove_asks_then_removes_and_reports(make_gui: Any, qtbot: Any, supported: bool) -> None:
    gui = make_gui(FakeManager(revocation_supported=supported), seed=2)
    sid = gui.window.selected_id()

    async def scenario() -> None:
        click(qtbot, gui, gui.window.act_remove)
        box = gui.window.confirm_box
        assert box is not None and box.isVisible()
        # Cancel first: nothing happens.
        box.button(QMessageBox.StandardButton.Cancel).click()
        await settle()
        assert gui.window.model.row_of(sid) == 0
        click(qtbot, gui, gui.window.act_remove)
        gui.window.confirm_box.button(QMessageBox.StandardButton.Yes).click()
        await until(lambda: gui.window.model.row_of(sid) == -1, what="row gone")
        await until(lambda: gui.window.report_box is not None, what="report")

    run(gui.loop, scenario())
    assert gui.window.model.rowCount() == 1
    text = gui.window.report_box.text()
    if supported:
        assert "Tokens revoked at the server" in text and "client registration deleted" in text
    else:
        assert "not supported by this server" in text and "(local only)" in text
    assert gui.window.selected_id() is not None  # selection moved to the remaining row
    gui.window.report_box.close()


def test_failed_refresh_is_shown_in_words(make_gui: Any, qtbot: Any) -> None:
    manager = FakeManager()
    (sid,) = manager.seed(1)
    manager.fail_refresh[sid] = TemporarilyUnavailableError("temporarily_unavailable", "try later", status=503)
    gui = make_gui(manager)

    async def scenario() -> None:
        click(qtbot, gui, gui.window.act_refresh)
        await until(lambda: gui.window.error_box is not None, what="error box")

    run(gui.loop, scenario())
    assert "temporarily_unavailable: try later" in gui.window.error_box.text()
    assert gui.tray.notifications_shown  # refresh failures notify
    assert gui.window.error_box.windowModality() == Qt.WindowModality.NonModal
    gui.window.error_box.close()


def test_sign_in_needed_turns_the_tray_to_attention_and_notifies(make_gui: Any) -> None:
    manager = FakeManager()
    quiet, loud = manager.seed(2)
    manager.fail_refresh[quiet] = InvalidGrantError("invalid_grant", "refresh token revoked")
    manager.fail_refresh[loud] = InvalidGrantError("invalid_grant", "gone again")
    gui = make_gui(manager)
    gui.prefs.set_local(notifications=False)

    async def scenario() -> None:
        gui.actions.refresh(quiet)
        await until(lambda: gui.tray.state.value == "attention", what="attention")
        assert gui.tray.notifications_shown == []  # the setting is respected
        gui.prefs.set_local(notifications=True)
        gui.actions.refresh(loud)
        await until(lambda: gui.tray.notifications_shown, what="notification")

    run(gui.loop, scenario())
    title, text = gui.tray.notifications_shown[0]
    assert title == "Server 2 needs you to sign in" and "gone again" in text
    assert gui.tray.toolTip().startswith("MCP Auth Desktop — Server 1 needs attention")
    if gui.window.error_box is not None:
        gui.window.error_box.close()


def test_closing_the_window_keeps_the_app_in_the_tray(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=1)
    gui.window.show()
    qtbot.waitExposed(gui.window)
    gui.window.close()
    assert not gui.window.isVisible()
    assert gui.quit_requests == []
    gui.tray.server_names()  # menu still usable
    gui.tray.menu.aboutToShow.emit()
    next(a for a in gui.tray.menu.actions() if a.text() == "Open window").trigger()
    assert gui.window.isVisible()
    next(a for a in gui.tray.menu.actions() if a.text() == "Quit").trigger()
    assert gui.quit_requests == [1]


def test_keyboard_shortcuts(make_gui: Any, qtbot: Any) -> None:
    gui = make_gui(seed=1)
    gui.window.show()
    qtbot.waitExposed(gui.window)
    gui.window.activateWindow()
    qtbot.waitUntil(gui.window.isActiveWindow, timeout=3000)
    gui.window.table.setFocus()
    qtbot.keyClick(gui.window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert gui.window.add_dialog is not None
    gui.window.add_dialog.reject()
    gui.window.activateWindow()
    qtbot.waitUntil(gui.window.isActiveWindow, timeout=3000)
    gui.window.table.setFocus()
    qtbot.keyClick(gui.window.table, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert gui.window.edit_dialog is not None  # Edit… the selected server
    assert gui.window.edit_dialog.config.id == gui.window.selected_id()
    gui.window.edit_dialog.reject()
    for action in gui.window.server_action_list + [gui.window.act_add, gui.window.act_settings,
                                                   gui.window.act_edit]:
        assert action.toolTip(), action.text()
        assert not action.shortcut().isEmpty(), action.text()


def test_register_again_and_sign_in_from_the_server_menu(make_gui: Any, qtbot: Any) -> None:
    # The way out when the authorization server forgot this app (its error page is in the
    # browser): the window says so while signing in, and the Server menu action registers
    # again and signs in once.
    gui = make_gui(FakeManager(delay=0.3))

    async def scenario() -> None:
        view = await gui.manager.add_server("https://forgetful.example.com/mcp", name="Forgetful")
        sid = view.id
        await settle()
        gui.window.select_server(sid)
        await settle()
        assert not gui.window.act_re_register.isEnabled()  # no registration yet
        click(qtbot, gui, gui.window.act_sign_in)
        await until(lambda: cell(gui, sid, Column.STATE) == "signing in", what="signing in")
        status = gui.window.statusBar().currentMessage()
        assert "Invalid client_id" in status and "Register again and sign in" in status
        await until(lambda: "Register again and sign in" in gui.window.details.fields["state"].text(),
                    what="details say what to do")
        await until(lambda: cell(gui, sid, Column.STATE) == "signed in", what="signed in")
        await settle()
        assert gui.window.act_re_register.isEnabled()
        assert gui.window.act_re_register in gui.window.menuBar().actions()[1].menu().actions()
        gui.manager.calls.clear()
        gui.window.act_re_register.trigger()  # a Server menu item (not on the toolbar)
        await until(lambda: cell(gui, sid, Column.STATE) == "signed in" and gui.manager.calls,
                    what="signed in again")
        assert gui.manager.calls == [("sign_in_re_register", sid)]

    run(gui.loop, scenario())


def test_a_server_failure_on_test_names_the_way_out(make_gui: Any, qtbot: Any) -> None:
    # The TypeScript SDK example answers a token it forgot (after a restart) with HTTP 500.
    from mcp_auth_desktop.core.errors import McpProtocolError

    gui = make_gui(FakeManager(delay=0.05))

    async def scenario() -> None:
        view = await gui.manager.add_server("https://forgetful.example.com/mcp", name="Forgetful")
        await gui.manager.sign_in(view.id)
        await settle()
        gui.window.select_server(view.id)
        gui.manager.fail_call[view.id] = McpProtocolError(
            "The MCP server at https://forgetful.example.com/mcp answered initialize with HTTP 500.",
            status=500,
        )
        click(qtbot, gui, gui.window.act_test)
        await until(lambda: "HTTP 500" in gui.window.statusBar().currentMessage(), what="failure shown")
        assert "Register again and sign in" in gui.window.statusBar().currentMessage()
        gui.manager.fail_call[view.id] = McpProtocolError("The MCP server sent a malformed answer.")
        click(qtbot, gui, gui.window.act_test)
        await until(lambda: "malformed" in gui.window.statusBar().currentMessage(), what="other failure")
        assert "Register again" not in gui.window.statusBar().currentMessage()

    run(gui.loop, scenario())
