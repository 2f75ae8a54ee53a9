"""/mcp over real HTTP streams (python -m mock_server): the handshake era's server-to-client
requests on the POST's SSE stream, SSE resumption with Last-Event-ID, 2026-07-28
subscriptions/listen, and the --protocol / --no-auth switches."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.mock.helpers import MCP_HEADERS, REPO_ROOT, MockProcess, start_mock_process
from tests.mock.mcp2026 import ALL_CAPS, headers, request

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[MockProcess]:
    process = start_mock_process("--no-auth")
    try:
        yield process
    finally:
        process.stop()


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    event: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if not line:
            if event:
                yield event
            event = {}
        elif line.startswith("id:"):
            event["id"] = line[3:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
            event["data"] = json.loads(data) if data else None


async def _initialize(http: httpx.AsyncClient, url: str, version: str, capabilities: dict[str, Any]) -> dict[str, str]:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": capabilities, "clientInfo": {"name": "t", "version": "1"}}}
    answer = await http.post(url, headers=MCP_HEADERS, json=init)
    assert answer.status_code == 200, answer.text
    session = {**MCP_HEADERS, "Mcp-Session-Id": answer.headers["mcp-session-id"],
               "MCP-Protocol-Version": answer.json()["result"]["protocolVersion"]}
    note = await http.post(url, headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert note.status_code == 202
    return session


async def test_handshake_era_sends_the_elicitation_request_on_the_stream(server: MockProcess) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        session = await _initialize(http, server.mcp_url, "2025-11-25", {"elicitation": {}})
        call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                "params": {"name": "confirm_action", "arguments": {"action": "rename y"}}}
        async with http.stream("POST", server.mcp_url, headers=session, json=call) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _events(stream)
            asked = (await anext(events))["data"]
            assert asked["method"] == "elicitation/create"
            assert asked["params"]["message"] == "Confirm: rename y?"
            reply = {"jsonrpc": "2.0", "id": asked["id"], "result": {"action": "decline"}}
            assert (await http.post(server.mcp_url, headers=session, json=reply)).status_code == 202
            final = (await anext(events))["data"]
        assert final["id"] == 7
        assert final["result"]["content"][0]["text"] == "rename y: not confirmed"
        assert "resultType" not in final["result"]  # handshake-era results keep their 2025 shape


async def test_a_stream_closed_mid_call_resumes_with_last_event_id(server: MockProcess) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        session = await _initialize(http, server.mcp_url, "2025-11-25", {})
        call = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "test_reconnection"}}
        async with http.stream("POST", server.mcp_url, headers=session, json=call) as stream:
            seen = [e async for e in _events(stream)]
        assert len(seen) == 1 and seen[0]["data"] is None  # the priming event only, then the server closed
        resumed = await http.get(server.mcp_url, headers={**session, "Last-Event-ID": seen[0]["id"]})
        final = [json.loads(line[5:]) for line in resumed.text.splitlines() if line.startswith("data:")]
        assert final[-1]["id"] == 9 and final[-1]["result"]["content"][0]["text"] == "Reconnection test completed"
        again = await http.get(server.mcp_url, headers={**session, "Last-Event-ID": seen[0]["id"]})
        assert again.status_code == 404  # replayed once
        assert (await http.get(server.mcp_url, headers=session)).status_code == 405


async def test_subscriptions_listen_acknowledges_then_delivers_only_what_was_asked(server: MockProcess) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        listen = request("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, id_=77)
        prompts_only = request("subscriptions/listen", {"notifications": {"promptsListChanged": True}}, id_=78)
        async with http.stream("POST", server.mcp_url, headers=headers(listen), json=listen) as tools_stream, \
                http.stream("POST", server.mcp_url, headers=headers(prompts_only), json=prompts_only) as prompt_stream:
            tools_events, prompt_events = _events(tools_stream), _events(prompt_stream)
            ack = (await anext(tools_events))["data"]
            assert ack["method"] == "notifications/subscriptions/acknowledged"
            assert ack["params"]["notifications"] == {"toolsListChanged": True}
            assert (await anext(prompt_events))["data"]["method"] == "notifications/subscriptions/acknowledged"
            for name in ("test_trigger_tool_change", "test_trigger_prompt_change"):
                trigger = request("tools/call", {"name": name, "arguments": {}})
                assert (await http.post(server.mcp_url, headers=headers(trigger), json=trigger)).status_code == 200
            changed = (await anext(tools_events))["data"]
            assert changed["method"] == "notifications/tools/list_changed"
            assert changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 77
            # The prompts-only stream got the prompts change and never the tools one.
            assert (await anext(prompt_events))["data"]["method"] == "notifications/prompts/list_changed"


async def test_progress_streams_before_the_result_in_2026(server: MockProcess) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        call = request("tools/call", {"name": "test_tool_with_progress", "arguments": {},
                                     "_meta": {"progressToken": "p1"}}, capabilities=ALL_CAPS)
        async with http.stream("POST", server.mcp_url, headers=headers(call), json=call) as stream:
            seen = [e["data"] async for e in _events(stream)]
        assert [m["params"]["progress"] for m in seen[:-1]] == [0, 50, 100]
        assert all(m["params"]["progressToken"] == "p1" for m in seen[:-1])
        assert seen[-1]["result"]["resultType"] == "complete"


def _start(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", *flags], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=30)


def test_protocol_flag_refuses_unknown_revisions() -> None:
    refused = _start("--protocol", "2024-11-05")
    assert refused.returncode == 2 and "--protocol" in refused.stderr


async def test_protocol_flag_pins_a_handshake_revision_in_a_process() -> None:
    process = start_mock_process("--no-auth", "--protocol", "2025-06-18")
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await _initialize(http, process.mcp_url, "2025-11-25", {})
            assert session["MCP-Protocol-Version"] == "2025-06-18"
            probe = request("server/discover")
            assert (await http.post(process.mcp_url, headers=headers(probe), json=probe)).status_code == 400
    finally:
        process.stop()


async def test_streams_kept_for_resumption_are_bounded_per_session(server: MockProcess) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        session = await _initialize(http, server.mcp_url, "2025-11-25", {})
        primed = []
        for n in range(17):
            call = {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "test_reconnection"}}
            async with http.stream("POST", server.mcp_url, headers=session, json=call) as stream:
                primed.extend([e["id"] async for e in _events(stream)])
        oldest = await http.get(server.mcp_url, headers={**session, "Last-Event-ID": primed[0]})
        assert oldest.status_code == 404  # the 17th closed stream pushed the first out
        newest = await http.get(server.mcp_url, headers={**session, "Last-Event-ID": primed[-1]})
        assert newest.status_code == 200 and '"id":16' in newest.text
