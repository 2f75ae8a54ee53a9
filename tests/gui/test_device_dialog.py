"""The sign-in-with-a-code dialog with the fake manager: what the server sent is shown as
plain text, and the dialog follows the bridge's task (the real flow, with the mock server
and Chromium: test_device_sign_in.py)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt

from mcp_auth_desktop.core.device_grant import DeviceAuthorization
from mcp_auth_desktop.core.state import ServerState
from tests.gui.conftest import run, until

HOSTILE = '<a href="file:///etc/passwd">x</a>'


def test_server_text_is_plain_and_the_fake_sign_in_ends_in_words(make_gui: Any) -> None:
    gui = make_gui(seed=1)
    sid = gui.manager.servers()[0].id
    gui.manager.set_state(sid, ServerState.NEEDS_SIGN_IN, expires_at=None)
    gui.manager.delay = 0.3

    async def scenario() -> None:
        gui.window.select_server(sid)
        await until(gui.window.act_sign_in_code.isEnabled, what="enabled")
        gui.window.act_sign_in_code.trigger()
        dialog = gui.window.device_dialog
        assert dialog is not None
        await until(lambda: dialog.code.text() == "BCDF-GHJK", what="the fake's code")
        # A hostile server's code and address (printable ASCII passes the core's checks):
        # shown literally, never as a link.
        dialog._on_code(sid, DeviceAuthorization(
            device_code="d", user_code=HOSTILE, verification_uri=f"https://a.example/{HOSTILE}",
            verification_uri_complete=None, expires_in=600, interval=5, received_at=time.monotonic()))
        for label in (dialog.code, dialog.address):
            assert label.textFormat() == Qt.TextFormat.PlainText
            assert not label.openExternalLinks()
            assert HOSTILE in label.text()
        await until(lambda: dialog.ended is not None, within=5, what="signed in")
        assert dialog.ended == "signed-in" and dialog.status.text() == "Signed in to Server 1."
        assert ("sign_in", sid) in gui.manager.calls

    run(gui.loop, scenario())
