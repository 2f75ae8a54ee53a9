"""Interop: the official MCP Python SDK client against `python -m mock_server` (uvicorn).

The token comes from the mock AS through the small independent PKCE helper in
tests/mock/helpers.py, so this test does not depend on our own client core.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.mock.helpers import (
    MockProcess,
    authorize_code,
    exchange_code,
    refresh,
    register_public_client,
    start_mock_process,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[MockProcess]:
    process = start_mock_process("--auto-approve")
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def sdk_client(server: MockProcess, token: str, mode: str = "auto") -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=20) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode=mode) as mcp:
            yield mcp


async def get_tokens(http: httpx.AsyncClient, server: MockProcess, client_id: str, scope: str) -> dict[str, str]:
    auth = await authorize_code(http, server.issuer, client_id, resource=server.mcp_url, scope=scope)
    response = await exchange_code(http, server.issuer, client_id, auth, resource=server.mcp_url)
    assert response.status_code == 200
    body: dict[str, str] = response.json()
    return body


@pytest.mark.parametrize(("mode", "sse"), [("auto", False), ("legacy", False), ("auto", True)])
async def test_sdk_client_lists_and_calls_tools_with_our_token(server: MockProcess, mode: str, sse: bool) -> None:
    server.control(knobs={"sse_responses": sse})
    async with httpx.AsyncClient(timeout=20) as http:
        client = await register_public_client(http, server.issuer)
        tokens = await get_tokens(http, server, client["client_id"], "mcp:read")
    before = server.control()["stats"]
    async with sdk_client(server, tokens["access_token"], mode) as mcp:
        listed = await mcp.list_tools()
        names = {tool.name for tool in listed.tools}
        assert {"echo", "whoami", "write_note", "share_note"} <= names
        result = await mcp.call_tool("echo", {"text": "hello from the SDK"})
        assert result.content[0].text == "hello from the SDK"  # type: ignore[union-attr]
        assert not result.is_error
    after = server.control(knobs={"sse_responses": False})["stats"]
    # auto: the SDK probes server/discover and stays on 2026-07-28; legacy: initialize and a session.
    era = "mcp_era:2026-07-28" if mode == "auto" else "mcp_era:handshake"
    other = "mcp_era:handshake" if mode == "auto" else "mcp_era:2026-07-28"
    assert after.get(era, 0) - before.get(era, 0) >= 3
    assert after.get(other, 0) == before.get(other, 0)


async def test_sdk_client_step_up_refresh_and_revocation(server: MockProcess) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        client = await register_public_client(http, server.issuer)
        cid = client["client_id"]
        read = await get_tokens(http, server, cid, "mcp:read")
        # Step-up: the read token cannot write; the SDK surfaces the 403 as an error.
        async with sdk_client(server, read["access_token"]) as mcp:
            with pytest.raises(MCPError) as denied:
                await mcp.call_tool("write_note", {"text": "x"})
            assert "insufficient_scope" in str(denied.value)
        write = await get_tokens(http, server, cid, "mcp:read mcp:write")
        async with sdk_client(server, write["access_token"]) as mcp:
            saved = await mcp.call_tool("write_note", {"text": "note"})
            assert saved.content[0].text.startswith("saved note")  # type: ignore[union-attr]
        # Refresh: the new access token works with the SDK.
        refreshed = await refresh(http, server.issuer, cid, write["refresh_token"], resource=server.mcp_url)
        assert refreshed.status_code == 200
        new = refreshed.json()
        async with sdk_client(server, new["access_token"]) as mcp:
            notes = await mcp.call_tool("list_notes", {})
            assert "note" in notes.content[0].text  # type: ignore[union-attr]
        # Revocation: the refresh token's family dies and the SDK can no longer connect.
        revoked = await http.post(server.issuer + "/revoke", data={"token": new["refresh_token"], "client_id": cid})
        assert revoked.status_code == 200
    with pytest.raises(BaseException) as failed:  # noqa: B017 - the SDK may wrap the 401 in an error group
        async with sdk_client(server, new["access_token"]) as mcp:
            await mcp.list_tools()
    assert isinstance(failed.value, MCPError) or failed.group_contains(MCPError)
    assert server.control()["stats"]["rs_invalid_token"] >= 1


@pytest.mark.parametrize("pinned", ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
async def test_sdk_auto_mode_finds_the_pinned_revision(pinned: str) -> None:
    """The official SDK's era detection against each --protocol pin: 2026-07-28 stays
    stateless; a handshake-only server answers the server/discover probe with 400 and the
    SDK falls back to initialize, getting the pinned revision."""
    process = start_mock_process("--auto-approve", "--protocol", pinned)
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            client = await register_public_client(http, process.issuer)
            tokens = await get_tokens(http, process, client["client_id"], "mcp:read")
        async with sdk_client(process, tokens["access_token"], "auto") as mcp:
            result = await mcp.call_tool("echo", {"text": pinned})
            assert result.content[0].text == pinned  # type: ignore[union-attr]
        stats = process.control()["stats"]
        if pinned == "2026-07-28":
            assert stats.get("mcp_era:handshake", 0) == 0
        else:
            assert stats["mcp_era:handshake"] >= 2  # initialize, then the call on the session
            assert process.control()["knobs"]["protocol"] == pinned
    finally:
        process.stop()
