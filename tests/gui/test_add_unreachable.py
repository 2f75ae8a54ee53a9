"""The add dialog, driving the REAL manager, on a server that cannot be reached.

It must show the real cause (with the host) in the dialog at once, store
nothing, and offer "Add anyway, sign in later", which keeps the server (not
contacted, state new) and closes the dialog. Editing the URL withdraws the offer.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt

from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.server_model import Column
from tests.gui.conftest import run, until
from tests.gui.real_manager_fixtures import running
from tests.hostile_server import closed_port


def test_unreachable_server_is_explained_and_kept_only_when_asked(real_gui: Any, qtbot: Any) -> None:
    gui, window = real_gui, real_gui.window
    port = closed_port()
    url = f"http://127.0.0.1:{port}/mcp"

    async def scenario() -> None:
        dialog = window.open_add_dialog()
        qtbot.keyClicks(dialog.url, url)
        dialog.advanced.setChecked(True)
        dialog.allow_insecure_loopback.setChecked(True)
        started = time.monotonic()
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await until(lambda: dialog.keep_button.isVisible(), within=10, what="keep offered")
        assert time.monotonic() - started < 5.0
        text = dialog.problem.text()
        assert f"Connection refused by 127.0.0.1:{port}: nothing is listening there" in text
        assert "Nothing was added" in text
        assert gui.manager.servers() == []  # nothing half-added
        assert window.add_dialog is dialog and window.error_box is None

        # Editing the input withdraws the offer; restoring it does not bring it back.
        dialog.url.setText(url[:-1])
        assert not dialog.keep_button.isVisible()
        dialog.url.setText(url)
        assert not dialog.keep_button.isVisible()

        # Try again, then keep it.
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await until(lambda: dialog.keep_button.isVisible(), within=10, what="keep offered again")
        qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)
        await until(lambda: window.add_dialog is None, within=10, what="dialog closed")
        [view] = gui.manager.servers()
        assert view.url == url and view.state is ServerState.NEW and view.issuer is None

        # Signing in later names the same cause in the details and the row's tooltip.
        window.select_server(view.id)
        button = window.toolbar.widgetForAction(window.act_sign_in)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        cause = f"Connection refused by 127.0.0.1:{port}"
        await until(lambda: cause in window.details.fields["error"].text(), within=10,
                    what="cause in the details")
        row_tip = window.model.index(0, int(Column.STATE)).data(Qt.ItemDataRole.ToolTipRole)
        assert cause in row_tip

    run(gui.loop, running(gui, scenario))


def test_bad_input_gets_no_keep_offer(real_gui: Any, qtbot: Any) -> None:
    gui, window = real_gui, real_gui.window

    async def scenario() -> None:
        await gui.manager.add_server("https://mcp.example.com/mcp", discover=False)
        dialog = window.open_add_dialog()
        qtbot.keyClicks(dialog.url, "https://mcp.example.com/mcp")
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await until(lambda: "already added" in dialog.problem.text(), within=10, what="duplicate")
        assert not dialog.keep_button.isVisible()
        dialog.reject()

    run(gui.loop, running(gui, scenario))
