"""The real manager and MCP client against the mock server pinned to each protocol revision
(``python -m mock_server --protocol ...``): era found and remembered, the Mcp-Param header tool,
input_required results, and the same authorization in every era."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.mcp import Era, McpClient, accept_defaults
from mcp_auth_desktop.core.mcp.memory import STATUS_KEY
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.mock.helpers import MockProcess, start_mock_process
from tests.start_page import HeadlessApprover

pytestmark = pytest.mark.e2e


@contextlib.asynccontextmanager
async def signed_in(pin: str, procs: list[MockProcess] | None = None) -> AsyncIterator[TokenManager]:
    proc = await asyncio.to_thread(start_mock_process, "--auto-approve", "--protocol", pin)
    if procs is not None:
        procs.append(proc)
    http = make_http_client()
    m = TokenManager(http=http, vault=MemoryVault(), settings=MemorySettings(), browser=HeadlessApprover())
    try:
        await m.start(background=False)
        await m.add_server(proc.mcp_url, name="mock", options=ServerOptions(allow_insecure_loopback=True))
        await m.sign_in("mock")
        yield m
    finally:
        await m.aclose()
        await http.aclose()
        proc.stop()


@pytest.fixture(params=["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "auto"])
async def pinned(request: pytest.FixtureRequest) -> AsyncIterator[tuple[TokenManager, str]]:
    async with signed_in(request.param) as m:
        yield m, request.param


async def test_each_revision_is_spoken_and_remembered(pinned: tuple[TokenManager, str]) -> None:
    manager, pin = pinned
    expected = "2026-07-28" if pin == "auto" else pin
    listed = await manager.call("mock", "tools/list", interactive=True)
    names = {t["name"] for t in listed["tools"]}
    assert "regional_echo" in names
    said = manager.get("mock").mcp_server
    assert said is not None and said.protocol_version == expected
    assert said.era is (Era.MODERN if expected == "2026-07-28" else Era.LEGACY)
    doc = await manager._settings.load()  # noqa: SLF001 - what another process would read
    stored = next(iter(doc["server_status"].values()))[STATUS_KEY]
    assert stored["era"]["version"] == expected

    # The header parameter tool: in 2026-07-28 the mock refuses the call without Mcp-Param-Region.
    echoed = await manager.call(
        "mock", "tools/call", {"name": "regional_echo", "arguments": {"region": "eu-wést", "text": "hi"}},
        interactive=True,
    )
    assert echoed["content"][0]["text"] == "[eu-wést] hi"


async def test_input_required_in_2026() -> None:
    async with signed_in("2026-07-28") as manager:
        # The app declares no client capability it cannot serve: the mock says which it needs.
        with pytest.raises(errors.McpProtocolError, match="elicitation") as info:
            await manager.call(
                "mock", "tools/call", {"name": "test_input_required_result_request_state", "arguments": {}},
                interactive=True,
            )
        assert info.value.code == -32021
        # A caller that can answer forms (the conformance adapter's kind) gets the full round trips.
        view = manager.get("mock")

        async def token() -> str:
            return await manager.get_token("mock")

        async with httpx.AsyncClient(trust_env=False, timeout=20) as http:
            client = McpClient(http, view.url, token_provider=token, elicitation=accept_defaults)
            await client.connect()
            for tool in ("test_input_required_result_request_state", "test_input_required_result_elicitation"):
                result = await client.call_tool(tool, {})
                assert result.get("isError") is not True, (tool, result)
            assert client.era is not None and client.era.version == "2026-07-28"


async def test_a_refused_token_in_2026_goes_through_the_same_recovery(caplog: pytest.LogCaptureFixture) -> None:
    procs: list[MockProcess] = []
    async with signed_in("2026-07-28", procs) as manager:
        await manager.call("mock", "tools/list", interactive=True)
        before = manager.get("mock")
        procs[0].control(revoke_all=True)  # the server now answers 401 to the stored token
        with pytest.raises(errors.SignInRequiredError):
            await manager.call("mock", "tools/list", interactive=False)
        listed = await manager.call("mock", "tools/list", interactive=True)  # signs in again
        assert listed["tools"]
        after = manager.get("mock")
        assert after.mcp_server is not None and after.mcp_server.protocol_version == "2026-07-28"
        assert before.expires_at != after.expires_at
    # 401 -> one refresh (refused: the grant is revoked too) -> sign-in, as in every era.
    assert any("sign-in needed" in r.getMessage() and "invalid_grant" in r.getMessage() for r in caplog.records)
