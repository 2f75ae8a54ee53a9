"""Editing a server's settings after adding it, in the window (issue 16).

Against the REAL manager and a REAL mock server process: the edit dialog opened
from the row's right-click menu and from the details panel, pre-filled with the
stored settings (never a stored secret); changed scopes are what the next sign-in
asks for and is granted; input the rules refuse is refused in words, in the dialog
and by the manager; and ``mcp-auth edit`` and the dialog read and write the same
settings (a real CLI process on the same home).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction

from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.server_edit import ServerEdit
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.edit_dialog import EditServerDialog
from tests.gui.conftest import Gui, run, until
from tests.gui.real_manager_fixtures import HANG, WatcherPolls, cli, running
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.e2e

LOOPBACK = ServerOptions(allow_insecure_loopback=True)


def _row_menu_action(gui: Gui, text: str) -> QAction:
    return next(a for a in gui.window.row_menu.menu.actions() if a.text().replace("&", "") == text)


async def _add(gui: Gui, url: str, name: str, **kw: Any) -> str:
    view = await gui.bridge.add_server(AddServerRequest(url=url, name=name, options=LOOPBACK, **kw))
    assert view is not None, gui.window._last_failure
    gui.window.select_server(view.id)
    return view.id


async def _open_from_row_menu(gui: Gui) -> EditServerDialog:
    assert "Edit…" in [t.replace("&", "") for t in gui.window.row_menu.texts()]
    _row_menu_action(gui, "Edit…").trigger()
    dialog = gui.window.edit_dialog
    assert dialog is not None and dialog.isVisible()
    await until(lambda: dialog.secret_stored is not None, within=5, what="secret state")
    return dialog


def test_edited_scopes_are_what_the_next_sign_in_asks_for(
        real_gui: Gui, mock: MockProcess) -> None:
    gui = real_gui

    async def scenario() -> None:
        sid = await _add(gui, mock.mcp_url, "Mock")
        gui.bridge.sign_in(sid)
        await until(lambda: gui.manager.get(sid).state is ServerState.SIGNED_IN, within=30,
                    what="first sign-in")
        first = gui.manager.get(sid).granted_scopes
        assert "mcp:write" in first  # the server's suggestion: every scope it lists

        dialog = await _open_from_row_menu(gui)
        assert dialog.scopes.text() == ""  # none configured: the server's suggestion
        assert not dialog.save_button.isEnabled()  # nothing changed yet
        dialog.scopes.setText("mcp:read")
        assert dialog.save_button.isEnabled()
        assert dialog.problem.text() == "Changes: scopes."
        dialog.save_button.click()
        await until(lambda: dialog.outcome is not None, within=10, what="saved")
        # The current tokens were granted for the old scopes: the dialog says so and offers it.
        assert dialog.outcome is not None and dialog.outcome.sign_in_again
        assert "sign in again" in dialog.problem.text() and "Sign in again now?" in dialog.problem.text()
        assert dialog.sign_in_button.isVisible() and not dialog.save_button.isVisible()
        assert gui.manager.server_config(sid).scopes == ("mcp:read",)
        assert gui.manager.get(sid).granted_scopes == first  # nothing signed in behind the user

        dialog.sign_in_button.click()
        await until(lambda: gui.manager.get(sid).granted_scopes != first, within=30,
                    what="signed in again")
        view = gui.manager.get(sid)
        assert view.state is ServerState.SIGNED_IN
        # Exactly the edited scopes (offline_access added because the AS lists it), not the
        # new ones on top of the old grant.
        assert view.requested_scopes == ("mcp:read", "offline_access")
        assert view.granted_scopes == ("mcp:read", "offline_access")
        assert gui.window.edit_dialog is None

    run(gui.loop, running(gui, scenario), timeout=120)


def test_invalid_input_is_refused_in_words(real_gui: Gui, mock: MockProcess) -> None:
    gui = real_gui

    async def scenario() -> None:
        sid = await _add(gui, mock.mcp_url, "Mock")
        gui.window.details.edit_button.click()  # the details panel's way in
        dialog = gui.window.edit_dialog
        assert dialog is not None
        await until(lambda: dialog.secret_stored is not None, within=5, what="secret state")
        assert dialog.secret_stored is False and not dialog.forget_secret.isVisible()

        cases = [
            (lambda: dialog.scopes.setText('mcp:read "quoted"'), "Scopes: "),
            (lambda: dialog.form.resource_override.setText("not a url"), "Resource override: "),
            (lambda: dialog.form.callback_port.setText("99999"), "callback port"),
            (lambda: dialog.form.extra_params.setPlainText("state=mine"), "Authorization parameters: "),
            (lambda: dialog.form.client_secret.setText("s3cret"), "needs a client id"),
            # The server's URL is http: the loopback switch cannot be turned off for it.
            (lambda: dialog.form.allow_insecure_loopback.setChecked(False), "plain http"),
        ]
        for change, words in cases:
            change()
            assert words in dialog.problem.text(), (words, dialog.problem.text())
            assert not dialog.save_button.isEnabled()
            dialog.form.fill(gui.manager.server_config(sid))
            dialog.form.client_secret.clear()
            dialog.scopes.setText("")
            assert dialog.save_button.isEnabled() is False and dialog.problem.text() == ""

        # The manager refuses the same input on its own (another caller, no dialog): the
        # failure reaches the open dialog in words, and nothing is stored.
        dialog.form.client_id.setText("my-client")
        dialog.form.client_auth_method.setCurrentIndex(
            dialog.form.client_auth_method.findData("client_secret_post"))
        assert "needs the client's secret" in dialog.problem.text()
        before = gui.manager.server_config(sid)
        outcome = await gui.bridge.edit(sid, ServerEdit(
            scopes=(), client_id="my-client", client_auth_method="client_secret_post",
            options=LOOPBACK))
        assert outcome is None
        assert "needs the client's secret" in gui.window._last_failure[sid]
        assert gui.window.error_box is None  # the dialog is the place that says it
        assert gui.manager.server_config(sid) == before

        # With the secret it is saved; the secret is never shown again, only that one is kept.
        dialog.form.client_secret.setText("pre-registered-secret")
        assert dialog.save_button.isEnabled(), dialog.problem.text()
        dialog.save_button.click()
        await until(lambda: gui.window.edit_dialog is None, within=10, what="saved and closed")
        assert "Used when you sign in" in gui.window.statusBar().currentMessage()
        config = gui.manager.server_config(sid)
        assert (config.client_id, config.client_auth_method) == ("my-client", "client_secret_post")
        gui.window.edit_selected()
        again = gui.window.edit_dialog
        assert again is not None
        await until(lambda: again.secret_stored is True, within=5, what="secret stored")
        assert again.form.client_secret.text() == "" and again.forget_secret.isVisible()
        assert "pre-registered-secret" not in again.form.client_secret.placeholderText()
        assert "pre-registered-secret" not in gui.window.log_view.toPlainText()
        assert "pre-registered-secret" not in gui.window.statusBar().currentMessage()
        assert again.form.client_id.text() == "my-client"
        again.reject()

    run(gui.loop, running(gui, scenario), timeout=60)


def _cli_options(stdout: str) -> dict[str, Any]:
    shown = json.loads(stdout)
    assert isinstance(shown, dict)
    return dict(shown["options"])


def test_the_cli_and_the_window_edit_the_same_settings(
        file_gui: Gui, watcher: WatcherPolls, mock: MockProcess, home: Path) -> None:
    gui = file_gui

    async def scenario() -> None:
        sid = await _add(gui, mock.mcp_url, "Shared")

        # Edited in the window: the CLI reads the same settings back.
        dialog = await _open_from_row_menu(gui)
        dialog.form.resource_override.setText("https://resource.example/mcp")
        dialog.form.callback_port.setText("48123")
        dialog.form.extra_params.setPlainText("prompt=consent")
        dialog.scopes.setText("mcp:admin")
        dialog.save_button.click()
        await until(lambda: gui.window.edit_dialog is None, within=10, what="saved")
        said = json.loads(await cli("edit", "Shared", "--json"))
        assert said["changed"] is False and said["scopes"] == ["mcp:admin"]
        shown = _cli_options(json.dumps(said))
        assert shown == {"resource": "https://resource.example/mcp", "callback_port": 48123,
                         "auth_params": ["prompt=consent"], "allow_insecure_loopback": True}

        # Edited by the CLI: the open window sees it (from the watcher's next poll: counted,
        # see test_changes_elsewhere), and the dialog opens with it.
        reports = watcher.reports()
        await cli("edit", "Shared", "--default-resource", "--callback-port", "48200",
                  "--no-auth-params", "--scope", "mcp:read notes:share")
        exited = watcher.polls
        await until(lambda: gui.manager.server_config(sid).options.callback_port == 48200,
                    within=HANG, what="the CLI's edit seen")
        watcher.assert_reported_by_the_next_poll(reports, exited)
        dialog = await _open_from_row_menu(gui)
        assert dialog.form.callback_port.text() == "48200"
        assert dialog.scopes.text() == "mcp:read notes:share"
        assert dialog.form.resource_override.text() == ""
        assert dialog.form.extra_params.toPlainText() == ""
        assert dialog.form.allow_insecure_loopback.isChecked()
        dialog.reject()
        await asyncio.sleep(0)

    run(gui.loop, running(gui, scenario), timeout=120)
