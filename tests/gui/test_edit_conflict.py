"""The edit dialog never loses a change saved elsewhere while it is open (issue 16).

The window runs the REAL manager on file storage; a REAL ``mcp-auth edit`` process edits
the same server in the same home while the dialog is open. The dialog sends only the
fields the user changed: another field changed by the CLI survives the save, even when
the save comes right after the CLI's; a field
changed by both is refused in words, nothing is saved, and the user keeps theirs or takes
the new value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from mcp_auth_desktop.core.errors import EditConflictError
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.server_edit import ServerEdit
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.edit_dialog import EditServerDialog
from tests.gui.conftest import Gui, run, until
from tests.gui.real_manager_fixtures import HANG, WITHIN, WatcherPolls, cli, running
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.e2e

LOOPBACK = ServerOptions(allow_insecure_loopback=True)


async def _add_and_open(gui: Gui, url: str, name: str) -> tuple[str, EditServerDialog]:
    view = await gui.bridge.add_server(AddServerRequest(url=url, name=name, options=LOOPBACK))
    assert view is not None, gui.window._last_failure
    gui.window.select_server(view.id)
    dialog = gui.window.edit_selected()
    assert dialog is not None
    await until(lambda: dialog.secret_stored is not None, within=5, what="secret state")
    return view.id, dialog


def test_a_field_changed_elsewhere_survives_the_save(
        file_gui: Gui, mock: MockProcess, home: Path) -> None:
    gui = file_gui

    async def scenario() -> None:
        sid, dialog = await _add_and_open(gui, mock.mcp_url, "Shared")
        dialog.scopes.setText("mcp:admin")  # the user changes the scopes only
        edit = dialog.edit()
        assert edit.only == frozenset({"scopes"}) and edit.seen == dialog.config
        # Meanwhile the CLI changes two other fields; the save follows at once, maybe before
        # the window's settings watch has brought the change in (a manager that has not
        # seen it at all: tests/manager/test_edit_merge.py).
        await cli("edit", "Shared", "--callback-port", "48200", "--auth-param", "prompt=consent")
        dialog.save_button.click()
        await until(lambda: gui.window.edit_dialog is None, within=10, what="saved")
        config = gui.manager.server_config(sid)
        assert config.scopes == ("mcp:admin",)
        assert config.options.callback_port == 48200
        assert config.options.extra_authorize_params == (("prompt", "consent"),)
        # ...and what another process reads from the file says the same.
        shown = json.loads(await cli("edit", "Shared", "--json"))
        assert shown["scopes"] == ["mcp:admin"]
        assert shown["options"]["callback_port"] == 48200
        assert shown["options"]["auth_params"] == ["prompt=consent"]

    run(gui.loop, running(gui, scenario), timeout=120)


def test_a_field_changed_by_both_is_the_users_choice(
        file_gui: Gui, watcher: WatcherPolls, mock: MockProcess, home: Path) -> None:
    gui = file_gui

    async def scenario() -> None:
        sid, dialog = await _add_and_open(gui, mock.mcp_url, "Both")
        # The save comes before the open dialog could show the CLI's change (it reads the
        # settings every 500 ms: test_the_open_dialog_follows_changes_made_elsewhere), so the
        # manager is what refuses it here.
        dialog.findChild(QTimer, "follow").stop()
        dialog.scopes.setText("mcp:admin")
        dialog.form.resource_override.setText("https://mine.example/mcp")
        reports = watcher.reports()
        await cli("edit", "Both", "--scope", "mcp:read notes:share", "--resource",
                  "https://theirs.example/mcp", "--callback-port", "48300")
        exited = watcher.polls
        dialog.save_button.click()
        await until(lambda: dialog.conflicts.isVisible(), within=10, what="conflict shown")
        # Nothing was saved: the CLI's values stand, in the file and (once the settings
        # watch has brought them in) in the window's manager.
        shown = json.loads(await cli("edit", "Both", "--json"))
        assert shown["scopes"] == ["mcp:read", "notes:share"]
        assert shown["options"]["resource"] == "https://theirs.example/mcp"
        await until(lambda: gui.manager.server_config(sid).scopes == ("mcp:read", "notes:share"),
                    within=HANG, what="the CLI's edit seen")
        watcher.assert_reported_by_the_next_poll(reports, exited)  # counted, not timed
        assert gui.manager.server_config(sid).options.resource_override == "https://theirs.example/mcp"
        # In words, field by field: what it is now, what it was, what the user entered.
        texts = dialog.conflicts.texts()
        assert texts == [
            "Scopes: changed elsewhere to “mcp:read notes:share” (it was “the server's "
            "suggestion” when you opened this); you entered “mcp:admin”.",
            "Resource: changed elsewhere to “https://theirs.example/mcp” (it was “the server's "
            "URL” when you opened this); you entered “https://mine.example/mcp”.",
        ]
        assert "Nothing was saved" in gui.window.statusBar().currentMessage()
        assert gui.window.error_box is None  # the dialog is where it is said
        # A field only the CLI changed now shows its new value; Save waits for the choices.
        assert dialog.form.callback_port.text() == "48300"
        assert not dialog.save_button.isEnabled()
        assert "keep yours or take the new value" in dialog.problem.text()

        keep_scopes, _ = dialog.conflicts.buttons("scopes")
        _, take_resource = dialog.conflicts.buttons("resource")
        keep_scopes.click()
        assert not dialog.save_button.isEnabled()  # one left to decide
        take_resource.click()
        assert dialog.form.resource_override.text() == "https://theirs.example/mcp"
        assert dialog.scopes.text() == "mcp:admin"
        assert not dialog.conflicts.isVisible()
        assert dialog.edit().only == frozenset({"scopes"})
        assert dialog.save_button.isEnabled(), dialog.problem.text()
        dialog.save_button.click()
        await until(lambda: gui.window.edit_dialog is None, within=10, what="saved")
        config = gui.manager.server_config(sid)
        assert config.scopes == ("mcp:admin",)
        assert config.options.resource_override == "https://theirs.example/mcp"
        assert config.options.callback_port == 48300

        # The manager refuses such an edit from any caller, not only from the dialog.
        before = gui.manager.server_config(sid)
        stale = ServerEdit(scopes=("other",), options=LOOPBACK, only=frozenset({"scopes"}),
                           seen=dialog.config)
        with pytest.raises(EditConflictError) as raised:
            await gui.manager.edit_server(sid, stale)
        assert [c.field for c in raised.value.conflicts] == ["scopes"]
        assert gui.manager.server_config(sid) == before

    run(gui.loop, running(gui, scenario), timeout=120)


def test_an_edit_equal_to_the_change_elsewhere_is_no_conflict(
        file_gui: Gui, mock: MockProcess, home: Path) -> None:
    gui = file_gui

    async def scenario() -> None:
        sid, dialog = await _add_and_open(gui, mock.mcp_url, "Same")
        dialog.findChild(QTimer, "follow").stop()  # the save-time path, as above
        dialog.form.callback_port.setText("48400")
        await cli("edit", "Same", "--callback-port", "48400", "--scope", "mcp:read")
        dialog.save_button.click()
        await until(lambda: gui.window.edit_dialog is None, within=10, what="closed")
        # The user's port was already there: nothing to save, and nothing undone.
        assert gui.window.statusBar().currentMessage() == "Nothing changed for Same."
        shown = json.loads(await cli("edit", "Same", "--json"))
        assert (shown["options"]["callback_port"], shown["scopes"]) == (48400, ["mcp:read"])

    run(gui.loop, running(gui, scenario), timeout=120)




def test_the_open_dialog_follows_changes_made_elsewhere(
        file_gui: Gui, watcher: WatcherPolls, mock: MockProcess, home: Path) -> None:
    gui = file_gui

    async def scenario() -> None:
        _sid, dialog = await _add_and_open(gui, mock.mcp_url, "Live")
        dialog.scopes.setText("mcp:admin")
        # Within the 2 s, counted: the manager hears of a change from the settings
        # watcher's next poll, and the dialog reads the manager's settings 4 times in 2 s.
        follow = dialog.findChild(QTimer, "follow")
        assert follow.isActive() and follow.interval() <= WITHIN * 1000 / 4
        # A field the user did not touch shows the CLI's value while the dialog is open.
        reports = watcher.reports()
        await cli("edit", "Live", "--callback-port", "48500")
        exited = watcher.polls
        await until(lambda: dialog.form.callback_port.text() == "48500", within=HANG,
                    what="the CLI's port shown")
        watcher.assert_reported_by_the_next_poll(reports, exited)
        assert dialog.scopes.text() == "mcp:admin" and not dialog.conflicts.isVisible()
        assert dialog.edit().only == frozenset({"scopes"})
        # One the user did change: said before any Save, and Save waits for the choice.
        reports = watcher.reports()
        await cli("edit", "Live", "--scope", "mcp:read")
        exited = watcher.polls
        await until(dialog.conflicts.isVisible, within=HANG, what="conflict shown")
        watcher.assert_reported_by_the_next_poll(reports, exited)
        assert dialog.conflicts.texts() == [
            "Scopes: changed elsewhere to “mcp:read” (it was “the server's suggestion” when you "
            "opened this); you entered “mcp:admin”."]
        assert not dialog.save_button.isEnabled()
        _, take = dialog.conflicts.buttons("scopes")
        take.click()
        assert dialog.scopes.text() == "mcp:read"
        assert not dialog.save_button.isEnabled()  # nothing of the user's is left to save
        assert dialog.save_button.toolTip() == "<qt>Nothing has changed yet</qt>"
        dialog.reject()

    run(gui.loop, running(gui, scenario), timeout=120)
