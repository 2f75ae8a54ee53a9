"""The official MCP Python SDK client (`mcp` 2.3.0: ClientSession over stdio_client) drives
`mcp-auth bridge` against the mock server process, started exactly as a desktop client's
config would start it. What the client must see: the tools; nothing when the access token
expires mid-session; a clear error naming the cause and the command to run after a revoke or
a removal; a JSON-RPC error (never a hang) when the server answers 500, drops the connection,
closes its event stream early or stops answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

from tests.bridge.faults import FaultProxy
from tests.bridge.helpers import ROOT, Home, stats
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.timeout(120)


def params(home: Home, name: str = "mock", *extra: str) -> StdioServerParameters:
    argv = home.bridge_argv(name, "--log-file", str(home.path / "bridge.log"), *extra)
    return StdioServerParameters(command=argv[0], args=argv[1:], env=home.env, cwd=str(ROOT))


@asynccontextmanager
async def bridged(home: Home, *extra: str) -> AsyncIterator[ClientSession]:
    with home.errlog("a") as errlog:
        async with stdio_client(params(home, "mock", *extra), errlog=errlog) as streams:
            async with ClientSession(*streams) as session:
                await session.initialize()
                # The bridge handles stdin in order: once this is answered, the client's
                # notifications/initialized has been delivered too.
                await session.list_tools()
                yield session


def text_of(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def refreshes(mock: MockProcess) -> int:
    return int(stats(mock).get("token_requests:refresh_token", 0))


async def test_list_and_call_tools(home: Home, mock: MockProcess) -> None:
    before = stats(mock)
    with home.errlog("w") as errlog:
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


async def test_token_refused_mid_session_is_refreshed_once_and_the_client_sees_nothing(
    home: Home, mock: MockProcess
) -> None:
    async with bridged(home) as session:
        assert "one" in text_of(await session.call_tool("echo", {"text": "one"}))
        before_refresh, before_401 = refreshes(mock), stats(mock).get("rs_invalid_token", 0)
        # The server's clock jumps past the token's expiry: the stored token still looks valid
        # here, so the first request gets a 401 and the bridge must refresh and retry.
        mock.control(advance_clock=400)
        result = await session.call_tool("echo", {"text": "two"})
        assert not result.is_error and "two" in text_of(result)
        assert refreshes(mock) == before_refresh + 1
        assert stats(mock).get("rs_invalid_token", 0) == before_401 + 1
        assert "three" in text_of(await session.call_tool("echo", {"text": "three"}))
        assert refreshes(mock) == before_refresh + 1


async def test_short_lived_token_is_refreshed_ahead_of_expiry(home: Home, mock: MockProcess) -> None:
    mock.control(knobs={"access_token_ttl": 2})
    try:
        assert home.cli("refresh", "mock").returncode == 0  # now holds a 2-second token
        async with bridged(home) as session:
            before_refresh, before_401 = refreshes(mock), stats(mock).get("rs_invalid_token", 0)
            for i in range(3):
                await asyncio.sleep(2.2)  # the token in the store has expired
                result = await session.call_tool("echo", {"text": f"call {i}"})
                assert not result.is_error and f"call {i}" in text_of(result)
            # Refreshed before sending, never after a refusal.
            assert refreshes(mock) >= before_refresh + 3
            assert stats(mock).get("rs_invalid_token", 0) == before_401
    finally:
        mock.control(knobs={"access_token_ttl": 300})


async def test_revoke_in_the_app_gives_the_client_a_clear_error(home: Home, mock: MockProcess) -> None:
    opened = home.browser_opened()  # the fixture's own sign-in
    async with bridged(home) as session:
        await session.call_tool("echo", {"text": "before"})
        assert home.cli("revoke", "mock").returncode == 0
        with pytest.raises(MCPError) as caught:
            await session.call_tool("echo", {"text": "after"})
        text = str(caught.value)
        assert "revoked" in text and "mcp-auth login mock" in text
        assert caught.value.error.code == -32001
    assert home.browser_opened() == opened  # a deliberate revoke does not pop up a sign-in


async def test_remove_in_the_app_gives_the_client_a_clear_error(home: Home, mock: MockProcess) -> None:
    async with bridged(home) as session:
        await session.call_tool("echo", {"text": "before"})
        assert home.cli("remove", "mock").returncode == 0
        with pytest.raises(MCPError) as caught:
            await session.call_tool("echo", {"text": "after"})
        assert "was removed from MCP Auth Desktop" in str(caught.value)
        assert "mcp-auth login" in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("500", "answered HTTP 500"),
        ("drop", "closed the connection"),
        ("close_stream", "closed the event stream without answering"),
    ],
)
async def test_server_faults_give_json_rpc_errors_and_the_session_goes_on(
    proxied_home: Home, proxied: tuple[MockProcess, FaultProxy], fault: str, expected: str
) -> None:
    _mock, proxy = proxied
    async with bridged(proxied_home) as session:
        proxy.fail_next_posts(fault)
        started = time.monotonic()
        with pytest.raises(MCPError) as caught:
            await session.call_tool("echo", {"text": "x"})
        assert time.monotonic() - started < 10
        assert expected in str(caught.value), str(caught.value)
        assert "Traceback" not in str(caught.value)
        # The next request goes through: one failure does not end the session.
        assert "fine" in text_of(await session.call_tool("echo", {"text": "fine"}))
    assert f"POST /mcp {fault}" in proxy.seen


async def test_a_server_that_stops_answering_gets_an_error_after_the_timeout(
    proxied_home: Home, proxied: tuple[MockProcess, FaultProxy]
) -> None:
    _mock, proxy = proxied
    async with bridged(proxied_home, "--timeout", "2") as session:
        proxy.fail_next_posts("hang")
        started = time.monotonic()
        with pytest.raises(MCPError) as caught:
            await session.call_tool("echo", {"text": "x"})
        waited = time.monotonic() - started
        assert 1.9 <= waited < 8, waited
        assert "sent nothing for 2 seconds" in str(caught.value)
        assert "fine" in text_of(await session.call_tool("echo", {"text": "fine"}))


async def test_a_session_the_server_forgot_is_opened_again_without_the_client_noticing(
    proxied_home: Home, proxied: tuple[MockProcess, FaultProxy]
) -> None:
    mock, proxy = proxied
    async with bridged(proxied_home) as session:
        before = stats(mock).get("mcp_requests", 0)
        proxy.fail_next_posts("404")
        result = await session.call_tool("echo", {"text": "again"})
        assert not result.is_error and text_of(result) == "again"
        # initialize + notifications/initialized + the call, after the 404
        assert stats(mock).get("mcp_requests", 0) - before == 3
    assert "POST /mcp 404" in proxy.seen
    assert "the server forgot the session" in (proxied_home.path / "bridge.log").read_text()
