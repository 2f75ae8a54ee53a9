"""Saves the README screenshots from the REAL app: main window, Add server dialog, tray menu.

Nothing is staged: the real TokenManager, the real encrypted vault with its
key in the real Secret Service (gnome-keyring under scripts/headless.sh),
and three real mock server processes (one plain, one whose issuer has a path,
one never signed in to). Sign-in goes through the real loopback listener with
a headless stand-in for the browser, so the table, the countdown, the details
panel, the discovery trail and the log all show what really happened. The test
also checks that the pictures agree with the state and are not blank.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyle

from mcp_auth_desktop.core.errors import McpAuthError
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.preview import WAITING_FOR_KEYRING, SettingsPreview
from mcp_auth_desktop.gui.server_model import Column
from mcp_auth_desktop.storage import open_storage
from tests.gui.conftest import run, settle, until
from tests.gui.real_manager_fixtures import window_on
from tests.hostile_server import closed_port
from tests.mock.helpers import MockProcess, start_mock_process

pytestmark = [pytest.mark.e2e, pytest.mark.keyring]

ROOT = Path(__file__).resolve().parents[2]
# `make screenshots` refreshes the README's pictures; an ordinary test run writes
# them under .cache/ so that running the tests never dirties the work tree.
OUT = ROOT / ("docs/screenshots" if os.environ.get("MCP_AUTH_UPDATE_SCREENSHOTS") else ".cache/screenshots")


@pytest.fixture
def servers() -> Iterator[list[MockProcess]]:
    started: list[MockProcess] = []
    try:
        started.append(start_mock_process("--auto-approve", "--access-token-ttl", "3600"))
        started.append(start_mock_process("--auto-approve", "--issuer-path", "/tenant1",
                                          "--access-token-ttl", "900"))
        started.append(start_mock_process("--auto-approve"))
        yield started
    finally:
        for server in started:
            server.stop()


def _save(image: QImage, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    assert image.save(str(path), "PNG"), path
    # Not blank: many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20, (name, len(colours))
    return path


def test_screenshots(make_gui: Any, loop: Any, qtbot: Any, tmp_path: Path,
                     servers: list[MockProcess]) -> None:
    vault, settings = open_storage(tmp_path / "home")
    assert vault.location.key_source == "keyring"
    loopback = ServerOptions(allow_insecure_loopback=True)
    names = ["Notes", "Tenant 1", "Not signed in yet"]

    async def shots() -> None:
        await manager.start()
        try:
            ids = []
            for name, server in zip(names, servers, strict=True):
                view = await manager.add_server(server.mcp_url, name=name, options=loopback)
                ids.append(view.id)
            pending: list[asyncio.Task[None]] = []

            def open_in_browser(url: str) -> None:
                # The browser runs beside the flow, as a real one would: the flow
                # answers the browser's redirect only after the token exchange.
                pending.append(asyncio.ensure_future(browser.open(url)))

            await manager.sign_in(ids[0], on_authorization_url=open_in_browser)
            await manager.sign_in(ids[1], on_authorization_url=open_in_browser)
            await asyncio.gather(*pending)
            await manager.refresh(ids[1])
            # A server that cannot be reached: the error state, with the real cause.
            offline = await manager.add_server(f"http://127.0.0.1:{closed_port()}/mcp", name="Offline",
                                               options=loopback, discover=False)
            with contextlib.suppress(McpAuthError):
                await manager.sign_in(offline.id)
            assert not browser.errors, browser.errors
            window.show()
            qtbot.waitExposed(window)
            # Test the first server (its tools are listed in the log)...
            window.select_server(ids[0])
            await settle(200)
            qtbot.mouseClick(window.toolbar.widgetForAction(window.act_test), Qt.MouseButton.LeftButton)
            await until(lambda: "echo" in window.details.tool_names(), within=20, what="tools listed")
            # ...then show the one whose issuer has a path: its discovery trail says how it was found.
            window.select_server(ids[1])
            await settle(200)
            qtbot.mouseClick(window.toolbar.widgetForAction(window.act_copy), Qt.MouseButton.LeftButton)
            await until(lambda: "copied" in window.statusBar().currentMessage(), within=10,
                        what="copy message")
            await settle(300)
            states = [window.model.view_at(row).state for row in range(window.model.rowCount())]
            assert states == [ServerState.SIGNED_IN, ServerState.SIGNED_IN, ServerState.NEEDS_SIGN_IN,
                              ServerState.ERROR]
            # The account column: who each signed-in server knows you as.
            assert window.model.index(0, Column.ACCOUNT).data() == "demo-user (unverified)"
            details = window.details
            assert details.fields["issuer"].text() == servers[1].issuer
            assert servers[1].issuer.endswith("/tenant1")
            assert "/tenant1" in details.trail.toPlainText()
            # The table's countdown and the details panel's agree (same token, same second).
            row = window.model.row_of(ids[1])
            countdown = window.model.index(row, Column.EXPIRES).data()
            assert f"(in {countdown})" in details.fields["expires"].text()
            assert details.fields["last_refresh"].text().endswith("ok")
            # Nothing is cut off: the status message fits beside the storage label, every
            # detail and the whole discovery trail are in view.
            bar = window.statusBar()
            assert bar.fontMetrics().horizontalAdvance(bar.currentMessage()) < (
                bar.width() - window.storage_label.width() - 40)
            trail = details.trail
            assert trail.verticalScrollBar().maximum() == 0
            assert details.verticalScrollBar().value() == 0
            bottom = trail.mapTo(details.widget(), trail.rect().bottomLeft()).y()
            assert bottom <= details.viewport().height()
            _save(window.grab().toImage(), "main-window.png")

            # The right-click menu on a row: every per-server action.
            table = window.table
            pos = table.visualRect(window.model.index(1, Column.URL)).center()
            table.customContextMenuRequested.emit(pos)
            await settle(200)
            assert window.row_menu.menu.isVisible() and window.selected_id() == ids[1]
            _save(window.row_menu.menu.grab().toImage(), "row-menu.png")
            edit_action = next(a for a in window.row_menu.menu.actions() if a.text() == "&Edit…")
            window.row_menu.menu.hide()

            # Edit… from that menu: new scopes for a signed-in server, saved; the dialog says
            # the current sign-in was made with the old ones and offers to sign in again.
            edit_action.trigger()
            editing = window.edit_dialog
            assert editing is not None and editing.config.id == ids[1]
            await until(lambda: editing.secret_stored is not None, within=5, what="secret state")
            editing.scopes.setText("mcp:read notes:share")
            editing.form.callback_port.setText("48123")
            await settle(100)
            editing.save_button.click()
            await until(lambda: editing.outcome is not None, within=10, what="edit saved")
            await settle(200)
            assert editing.sign_in_button.isVisible() and "Sign in again now?" in editing.problem.text()
            _save(editing.grab().toImage(), "edit-server-dialog.png")
            editing.reject()

            # Sign in with a code (RFC 8628), from the row menu of the server never signed
            # in to: the address and the code its authorization server really sent.
            window.select_server(ids[2])
            await settle(100)
            assert window.act_sign_in_code.isEnabled()
            window.act_sign_in_code.trigger()
            coded = window.device_dialog
            assert coded is not None
            await until(lambda: "next in" in coded.status.text(), within=10, what="code shown")
            assert coded.address.text() == servers[2].base_url + "/device"
            await settle(200)
            _save(coded.grab().toImage(), "device-sign-in.png")
            coded.cancel_button.click()
            assert coded.ended == "cancelled"
            coded.cancel_button.click()  # Close
            await until(lambda: window.model.view_at(2).state is ServerState.NEEDS_SIGN_IN,
                        within=5, what="back to needs sign-in")
            # The tray says what needs the user, naming the servers (error beats attention).
            gui.tray.update_state()
            assert gui.tray.state.value == "error"
            assert "Offline" in gui.tray.toolTip() and "Not signed in yet" in gui.tray.toolTip()

            dialog = window.open_add_dialog()
            dialog.url.setText("https://mcp.example.com/mcp")
            dialog.name.setText("Example")
            dialog.advanced.setChecked(True)
            dialog.client_id.setText("my-registered-client")
            dialog.extra_params.setPlainText("prompt=consent")
            await settle(200)
            assert dialog.add_button.isEnabled()
            _save(dialog.grab().toImage(), "add-server-dialog.png")
            dialog.url.setText("http://mcp.example.com/mcp")
            await settle(100)
            assert not dialog.add_button.isEnabled()
            _save(dialog.grab().toImage(), "add-server-dialog-invalid.png")
            dialog.reject()

            gui.tray.show()
            menu = gui.tray.menu
            menu.popup(QPoint(400, 200))
            await settle(200)
            assert gui.tray.server_names() == sorted([*names, "Offline"])
            sub_action = next(a for a in menu.actions() if a.text() == names[1])
            menu.setActiveAction(sub_action)
            sub = sub_action.menu()
            # The submenu opens beside its item, as Qt places it.
            item_top = menu.actionGeometry(sub_action).top() - menu.style().pixelMetric(
                QStyle.PixelMetric.PM_MenuPanelWidth, None, menu)
            sub.popup(QPoint(400 + menu.width(), 200 + item_top))
            await settle(200)
            # The menu and its open submenu side by side, as the user sees them.
            left, right = menu.grab().toImage(), sub.grab().toImage()
            canvas = QImage(left.width() + right.width(),
                            max(left.height(), item_top + right.height()),
                            QImage.Format.Format_ARGB32)
            canvas.fill(QColor(0, 0, 0, 0))
            painter = QPainter(canvas)
            painter.drawImage(0, 0, left)
            painter.drawImage(left.width(), item_top, right)
            painter.end()
            _save(canvas, "tray-menu.png")
            sub.hide()
            menu.hide()

            # Before the vault opens (here: the keyring's unlock prompt is up), the rows, the
            # status bar and the tray say what the app waits for: the app's own settings
            # preview over the same settings file, as the app shows it at start.
            preview = SettingsPreview(await settings.load(), None)
            preview.set_waiting(WAITING_FOR_KEYRING)
            locked = make_gui(preview)
            locked.window.resize(1440, 520)
            locked.window.table.setColumnWidth(Column.STATE, 190)  # the whole words in view
            locked.window.show_locked(WAITING_FOR_KEYRING)
            locked.window.show()
            qtbot.waitExposed(locked.window)
            locked.window.select_server(ids[0])
            await settle(200)
            cells = [locked.window.model.index(r, Column.STATE).data()
                     for r in range(locked.window.model.rowCount())]
            assert cells == [WAITING_FOR_KEYRING] * 4
            # What the settings file knows is shown (the last refresh), what the vault holds is not.
            locked.window.select_server(ids[1])
            await settle(100)
            assert locked.window.details.fields["last_refresh"].text().endswith("— ok")
            locked.tray.update_state()
            assert locked.tray.state.value == "attention"
            assert "your tokens are locked: waiting for the keyring" in locked.tray.toolTip()
            _save(locked.window.grab().toImage(), "main-window-locked.png")
            locked.window.hide()
        finally:
            await gui.bridge.aclose()
            await manager.aclose()
            await vault.aclose()

    # The window on the real manager, as the other real-manager tests make it (window_on
    # closes its HTTP clients); shots() reads gui, manager, browser and window from here.
    with window_on(make_gui, loop, vault, settings) as gui:
        manager, browser, window = gui.manager, gui.browser, gui.window  # type: ignore[attr-defined]
        window.resize(1440, 860)
        run(loop, shots(), timeout=90)
    assert {p.name for p in OUT.glob("*.png")} >= {"main-window.png", "add-server-dialog.png", "tray-menu.png"}
