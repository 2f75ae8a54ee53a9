"""End-to-end sanity: the real process serves a full flow and an MCP tool call."""

from __future__ import annotations

import httpx

from tests.mock.helpers import MockProcess, call_tool, mcp_initialize, obtain_tokens


async def test_process_serves_flow_and_tool_call(mock_process: MockProcess) -> None:
    async with httpx.AsyncClient() as http:
        _, tokens = await obtain_tokens(http, mock_process.issuer, mock_process.mcp_url)
        headers = await mcp_initialize(http, mock_process.mcp_url, tokens["access_token"])
        response = await call_tool(http, mock_process.mcp_url, headers, "echo", {"text": "hello"})
    assert response.status_code == 200
    assert response.json()["result"]["content"][0]["text"] == "hello"


async def test_in_process_app_serves_flow(mock_app: tuple[object, httpx.AsyncClient]) -> None:
    _, http = mock_app
    _, tokens = await obtain_tokens(http, "http://127.0.0.1:8000", "http://127.0.0.1:8000/mcp")
    headers = await mcp_initialize(http, "http://127.0.0.1:8000/mcp", tokens["access_token"])
    response = await call_tool(http, "http://127.0.0.1:8000/mcp", headers, "whoami")
    assert '"sub": "demo-user"' in response.json()["result"]["content"][0]["text"]
