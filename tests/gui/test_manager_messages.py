"""The real manager's messages read right in the window: no command-line instructions.

The CLI adds its own ``mcp-auth login NAME`` hint (tests/cli); in the window a
message such as "Run `mcp-auth login Notes`" would send the user to a terminal.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.gui.conftest import run, until

CLI_WORDS = ("mcp-auth", "`", "--client-id", "run ")


def _reads_right_in_the_window(text: str) -> None:
    lowered = text.lower()
    for word in CLI_WORDS:
        assert word not in lowered, (word, text)


@pytest.mark.allow_warning_logs
def test_messages_from_the_real_manager_name_no_command(make_gui: Any, loop: Any) -> None:
    http = httpx.AsyncClient(trust_env=False)
    manager = TokenManager(http=http, vault=MemoryVault(), settings=MemorySettings())
    gui = make_gui(manager)
    window = gui.window

    async def scenario() -> None:
        await manager.start(background=False)
        try:
            view = await manager.add_server("https://mcp.example.com/mcp", name="Notes",
                                            discover=False)
            # Copy token before signing in: the window's error box says what to do.
            assert await gui.bridge.token(view.id, min_ttl=60) is None
            await until(lambda: window.error_box is not None, within=5, what="error box")
            text = window.error_box.text()
            assert "Notes" in text and "sign in" in text.lower()
            _reads_right_in_the_window(text)
            _reads_right_in_the_window(window.statusBar().currentMessage())

            # A client secret without a client id (as a script could send it).
            request = AddServerRequest(url="https://other.example.com/mcp", client_secret="s3",
                                       options=ServerOptions())
            assert await gui.bridge.add_server(request) is None
            await until(lambda: "client id" in window.error_box.text(), within=5)
            _reads_right_in_the_window(window.error_box.text())

            with pytest.raises(errors.ServerNotFoundError) as info:
                manager.get("Nonesuch")
            _reads_right_in_the_window(info.value.user_message)
        finally:
            await gui.bridge.aclose()
            await manager.aclose()
            await http.aclose()

    run(loop, scenario(), timeout=30)
