"""The right-click menu on a server row, and Rename (issue 16), on the real manager."""

from __future__ import annotations

import pytest

from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.server_model import Column
from tests.gui.conftest import Gui, run, settle, until
from tests.gui.real_manager_fixtures import running

pytestmark = pytest.mark.e2e


def names(gui: Gui) -> list[str]:
    model = gui.window.model
    return [model.index(r, Column.NAME).data() for r in range(model.rowCount())]


@pytest.mark.allow_warning_logs
def test_right_click_a_row_offers_every_server_action_and_rename_works(real_gui: Gui) -> None:
    gui, window = real_gui, real_gui.window

    async def scenario() -> None:
        for name in ("Alpha", "Beta"):
            await gui.bridge.add_server(AddServerRequest(
                url=f"https://{name.lower()}.example.com/mcp", name=name, discover=False))
        await until(lambda: names(gui) == ["Alpha", "Beta"], what="rows")
        window.select_server(window.model.view_at(0).id)
        beta = window.model.view_at(1).id

        # Right-click on Beta's row: it becomes the selection and the menu opens there.
        table = window.table
        pos = table.visualRect(window.model.index(1, Column.URL)).center()
        table.customContextMenuRequested.emit(pos)
        await settle(100)
        menu = window.row_menu.menu
        assert window.selected_id() == beta
        assert menu.isVisible()
        assert window.row_menu.texts() == [
            "&Sign in", "Sign in with a c&ode…", window.act_re_register.text(), "&Refresh", "&Copy token", "&Test",
            window.use_in.use_in.title(), window.use_in.snippet.title(),
            "Re&name…", "&Edit…", "Re&voke", "Re&move…"]
        # Every per-server action of the toolbar is in it, with the same enabled state.
        in_menu = {a.text(): a for a in menu.actions()}
        for action in window.server_action_list:
            assert in_menu[action.text()] is action
        assert in_menu["&Sign in"].isEnabled() and not in_menu["&Refresh"].isEnabled()
        menu.hide()
        # Off the rows: no menu.
        assert not window.row_menu.show_at(table.viewport().rect().bottomRight())

        # Rename from the menu: the dialog holds the current name; the row follows.
        in_menu["Re&name…"].trigger()
        dialog = window.rename_dialog
        assert dialog is not None and dialog.isVisible() and dialog.textValue() == "Beta"
        dialog.setTextValue("Gamma")
        dialog.accept()
        await until(lambda: names(gui) == ["Alpha", "Gamma"], what="renamed row")
        assert gui.manager.get(beta).name == "Gamma"
        assert window.details.group.title() == "Gamma"
        # A name another server has is refused, with the reason, and nothing changes.
        window.rename_selected()
        window.rename_dialog.setTextValue("alpha")
        window.rename_dialog.accept()
        await until(lambda: window.error_box is not None and window.error_box.isVisible(),
                    what="refusal shown")
        assert "alpha" in window.error_box.text().lower(), window.error_box.text()
        assert names(gui) == ["Alpha", "Gamma"]
        window.error_box.close()

        # Remove from the menu asks first, as the toolbar's does.
        table.customContextMenuRequested.emit(pos)
        await settle(50)
        in_menu["Re&move…"].trigger()
        assert window.confirm_box is not None and "Gamma" in window.confirm_box.text()
        window.confirm_box.close()
        menu.hide()

    run(gui.loop, running(gui, scenario), timeout=60)
