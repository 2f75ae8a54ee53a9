"""Everything in both directions, against a server built with the official MCP Python SDK
(tests/bridge/sdk_server.py) and the SDK's own client: progress notifications and log messages
on a request's event stream, an elicitation (a server-to-client request) answered by the
client through the bridge, and a notification sent on the session's GET stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.bridge.faults import FaultProxy, sdk_server_behind_proxy
from tests.bridge.helpers import ROOT, Home, make_home
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sdk_server() -> Iterator[tuple[MockProcess, FaultProxy]]:
    with sdk_server_behind_proxy() as pair:
        yield pair


@pytest.fixture()
def sdk_home(tmp_path: Path, sdk_server: tuple[MockProcess, FaultProxy]) -> Home:
    home = make_home(tmp_path)
    home.login(sdk_server[0].mcp_url, "sdk")
    return home


async def test_progress_logs_elicitation_and_get_stream_go_through(
    sdk_home: Home, sdk_server: tuple[MockProcess, FaultProxy]
) -> None:
    proxy = sdk_server[1]
    argv = sdk_home.bridge_argv("sdk", "--log-file", str(sdk_home.path / "bridge.log"))
    progress: list[tuple[float, float | None, str | None]] = []
    logs: list[Any] = []
    notifications: list[Any] = []
    asked: list[str] = []
    list_changed = asyncio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def on_log(params: Any) -> None:
        logs.append(params.data)

    async def on_elicit(context: Any, params: Any) -> Any:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async def on_message(message: Any) -> None:
        notifications.append(message)
        if "list_changed" in repr(message):
            list_changed.set()

    with sdk_home.errlog("w") as errlog:
        async with stdio_client(StdioServerParameters(command=argv[0], args=argv[1:], env=sdk_home.env,
                                                      cwd=str(ROOT)), errlog=errlog) as streams:
            async with ClientSession(*streams, logging_callback=on_log, elicitation_callback=on_elicit,
                                     message_handler=on_message) as session:
                init = await session.initialize()
                assert init.server_info.name == "sdk-test-server"
                result = await session.call_tool("progress_echo", {"text": "x"},
                                                 progress_callback=on_progress)
                assert result.content[0].text == "done: x"  # type: ignore[union-attr]
                assert [p[0] for p in progress] == [1, 2, 3] and progress[-1][2] == "step 3"
                assert any("working on x" in str(entry) for entry in logs)

                result = await session.call_tool("ask_name", {})
                assert result.content[0].text == "hello Ada"  # type: ignore[union-attr]
                assert asked == ["What is your name?"]

                result = await session.call_tool("announce", {})
                assert result.content[0].text == "announced"  # type: ignore[union-attr]
                await asyncio.wait_for(list_changed.wait(), 10)
    assert "GET /mcp pass" in proxy.seen  # the bridge held the session's GET stream open
    assert "DELETE /mcp pass" in proxy.seen  # and ended the session when the client left
