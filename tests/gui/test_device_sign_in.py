"""Sign in with a code from the window (RFC 8628 device authorization; issue 16).

The window on the REAL manager against a REAL mock server process; REAL Chromium
(Playwright, /usr/bin/chromium) stands for the user's browser on another device: it
opens the address the dialog shows, types the code the dialog shows, and approves or
denies. What the dialog says (the address, the code, the countdown, how often the
server was asked, how it ended) is read from its widgets; that polling stops on Cancel
is read from the mock server's own record of the polls.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.device_dialog import DeviceSignInDialog
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.e2e.test_device_login import approve_in_chromium
from tests.gui.conftest import Gui, run, until
from tests.gui.real_manager_fixtures import running
from tests.mock.helpers import MockProcess, start_mock_process

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

ASKED = re.compile(r"Waiting for your approval: asked the server (once|\d+ times); next in 1 s\.")


@pytest.fixture
def device_mock() -> Iterator[MockProcess]:
    proc = start_mock_process("--device-interval", "1")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def code_gui(make_gui: Any, loop: Any) -> Iterator[Gui]:
    http = make_http_client()
    manager = TokenManager(http=http, vault=MemoryVault(), settings=MemorySettings())
    opened: list[str] = []
    gui = make_gui(manager, url_opener=opened.append)
    gui.opened = opened  # type: ignore[attr-defined]
    yield gui
    run(loop, http.aclose())


async def _add(gui: Gui, mock: MockProcess, name: str) -> str:
    view = await gui.bridge.add_server(AddServerRequest(
        url=mock.mcp_url, name=name, options=ServerOptions(allow_insecure_loopback=True)))
    assert view is not None, gui.window._last_failure
    gui.window.select_server(view.id)
    await until(lambda: gui.window.act_sign_in_code.isEnabled(), within=5, what="action enabled")
    return view.id


async def _start(gui: Gui) -> DeviceSignInDialog:
    texts = [t.replace("&", "") for t in gui.window.row_menu.texts()]
    assert "Sign in with a code…" in texts  # in the row menu, and the same action in the Server menu
    gui.window.act_sign_in_code.trigger()
    dialog = gui.window.device_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    await until(lambda: dialog.code.text() != "", within=15, what="the code shown")
    return dialog


def _polls(mock: MockProcess) -> list[tuple[float, str]]:
    return [(at, answer) for at, answer in mock.control()["device_polls"]]


def test_approved_in_chromium_the_row_shows_signed_in(
        code_gui: Gui, device_mock: MockProcess) -> None:
    gui, mock = code_gui, device_mock

    async def scenario() -> None:
        sid = await _add(gui, mock, "Remote")
        dialog = await _start(gui)
        address, code = dialog.address.text(), dialog.code.text()
        assert address == mock.base_url + "/device"
        assert len(code) == 9 and code[4] == "-"
        assert dialog.expiry.text() in ("The code expires in 10:00.", "The code expires in 9:59.")
        # Copy buttons put exactly the shown text on the clipboard.
        dialog.copy_code.click()
        assert QGuiApplication.clipboard().text() == code
        dialog.copy_address.click()
        assert QGuiApplication.clipboard().text() == address
        # "Open in browser" opens the address that carries the code, through the app's opener.
        dialog.open_button.click()
        assert gui.opened == [f"{address}?user_code={code}"]  # type: ignore[attr-defined]
        # The progress of the polling, in words, as the server is asked.
        await until(lambda: ASKED.fullmatch(dialog.status.text()), within=10, what="polling shown")
        assert len(_polls(mock)) >= 1
        await asyncio.sleep(1.1)
        assert dialog.expiry.text().startswith("The code expires in 9:5")  # it counts down

        # The user's browser elsewhere: Chromium types the code and approves.
        seen = await asyncio.to_thread(approve_in_chromium, address, code)
        assert seen["code"] == code and seen["done"] == "Device connected"
        await until(lambda: dialog.ended is not None, within=15, what="sign-in ended")
        assert dialog.ended == "signed-in" and dialog.status.text() == "Signed in to Remote."
        assert dialog.cancel_button.text() == "Close"
        view = gui.manager.get(sid)
        assert view.state is ServerState.SIGNED_IN and view.has_refresh_token
        await until(lambda: gui.window.selected_view() is not None and
                    gui.window.selected_view().state is ServerState.SIGNED_IN, within=5)
        row = gui.window.model.row_of(sid)
        assert gui.window.model.index(row, 2).data() == "signed in"
        assert not gui.window.act_sign_in_code.isEnabled()  # signed in: nothing to sign in to
        stats = mock.control()["stats"]
        assert stats["device_poll:approved"] == 1
        # Never inside the interval, though qasync's timers may wake early (core/device_grant.py).
        assert "device_poll:slow_down" not in stats, stats
        dialog.cancel_button.click()  # Close
        await until(lambda: gui.window.device_dialog is None, within=5, what="closed")

    run(gui.loop, running(gui, scenario), timeout=120)


def test_denied_in_chromium_is_said_in_words(code_gui: Gui, device_mock: MockProcess) -> None:
    gui, mock = code_gui, device_mock

    async def scenario() -> None:
        sid = await _add(gui, mock, "Denied")
        dialog = await _start(gui)
        seen = await asyncio.to_thread(approve_in_chromium, dialog.address.text(),
                                       dialog.code.text(), "deny")
        assert seen["done"] == "Request denied"
        await until(lambda: dialog.ended is not None, within=15, what="sign-in ended")
        assert dialog.ended == "failed"
        assert dialog.status.text() == "The sign-in was denied at 127.0.0.1 (access_denied)."
        assert gui.window.error_box is None  # the dialog is where it is said
        assert gui.manager.get(sid).state is not ServerState.SIGNED_IN
        await until(gui.window.act_sign_in_code.isEnabled, within=5, what="offered again")

    run(gui.loop, running(gui, scenario), timeout=120)


def test_cancel_stops_the_polling(code_gui: Gui, device_mock: MockProcess) -> None:
    gui, mock = code_gui, device_mock

    async def scenario() -> None:
        sid = await _add(gui, mock, "Cancelled")
        dialog = await _start(gui)
        await until(lambda: len(_polls(mock)) >= 2, within=10, what="two polls")
        dialog.cancel_button.click()
        assert dialog.ended == "cancelled"
        assert "Cancelled: this app stopped asking the server" in dialog.status.text()
        await until(lambda: not gui.bridge.is_busy(sid), within=5, what="task ended")
        # A poll already on the wire when Cancel was pressed may still reach the server.
        await asyncio.sleep(0.5)
        stopped = len(_polls(mock))
        await asyncio.sleep(3.5)  # the interval is 1 s: three more polls had it gone on
        assert len(_polls(mock)) == stopped
        assert gui.window.error_box is None
        assert gui.manager.get(sid).state is ServerState.NEEDS_SIGN_IN
        dialog.cancel_button.click()  # now Close
        await until(lambda: gui.window.device_dialog is None, within=5, what="closed")

    run(gui.loop, running(gui, scenario), timeout=60)


def test_expiry_is_said_in_words(code_gui: Gui) -> None:
    gui = code_gui
    mock = start_mock_process("--device-interval", "1", "--device-code-ttl", "3")

    async def scenario() -> None:
        await _add(gui, mock, "Late")
        dialog = await _start(gui)
        await until(lambda: dialog.ended is not None, within=20, what="expired")
        assert dialog.ended == "failed"
        assert dialog.status.text().startswith(
            "The sign-in code from 127.0.0.1 expired after 3 seconds without being approved.")
        assert dialog.expiry.text() == ""

    try:
        run(gui.loop, running(gui, scenario), timeout=60)
    finally:
        mock.stop()


def test_not_offered_by_the_server(code_gui: Gui) -> None:
    gui = code_gui
    mock = start_mock_process("--no-device-grant")

    async def scenario() -> None:
        view = await gui.bridge.add_server(AddServerRequest(
            url=mock.mcp_url, name="Plain", options=ServerOptions(allow_insecure_loopback=True)))
        assert view is not None and view.device_grant_supported is False
        gui.window.select_server(view.id)
        await until(lambda: gui.window.selected_view() is not None, within=5)
        gui.window._update_actions()
        assert not gui.window.act_sign_in_code.isEnabled()
        assert gui.window.act_sign_in_code.toolTip() == (
            "The authorization server of Plain does not offer sign-in with a code")
        assert gui.window.act_sign_in.isEnabled()  # the browser sign-in still is

    try:
        run(gui.loop, running(gui, scenario), timeout=60)
    finally:
        mock.stop()
