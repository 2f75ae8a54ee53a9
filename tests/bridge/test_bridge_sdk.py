"""The official MCP Python SDK client (`mcp`: ClientSession over stdio_client) drives
`mcp-auth bridge` against the mock server process: the client starts the bridge exactly as a
desktop client's config would."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.bridge.helpers import ROOT, Home, stats
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.timeout(120)


def params(home: Home, name: str = "mock", *extra: str) -> StdioServerParameters:
    argv = home.bridge_argv(name, "--log-file", str(home.path / "bridge.log"), *extra)
    return StdioServerParameters(command=argv[0], args=argv[1:], env=home.env, cwd=str(ROOT))


def text_of(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def test_list_and_call_tools(home: Home, mock: MockProcess) -> None:
    before = stats(mock)
    with open(home.path / "stderr.txt", "w") as errlog:
        async with stdio_client(params(home), errlog=errlog) as streams:
            async with ClientSession(*streams) as session:
                init = await session.initialize()
                assert init.server_info.name == "mcp-auth-mock-server"
                tools = await session.list_tools()
                assert {"echo", "whoami", "write_note"} <= {t.name for t in tools.tools}
                result = await session.call_tool("echo", {"text": "through the bridge"})
                assert not result.is_error
                assert "through the bridge" in text_of(result)
                who = await session.call_tool("whoami", {})
                assert "demo-user" in text_of(who)
    after = stats(mock)
    assert after.get("tool:echo", 0) == before.get("tool:echo", 0) + 1
    assert (home.path / "stderr.txt").read_text() == ""  # logs went to --log-file
    print(sys.version)
