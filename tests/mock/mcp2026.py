"""Helpers for MCP 2026-07-28 requests in the mock's tests: the `_meta` keys and headers
the revision requires, built from the specification's rules (not from our client)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.mock.helpers import MCP_HEADERS

MODERN = "2026-07-28"
ALL_CAPS: dict[str, Any] = {"elicitation": {}, "sampling": {}, "roots": {}}


def meta(capabilities: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities if capabilities is not None else {},
        "io.modelcontextprotocol/clientInfo": {"name": "mock-tests", "version": "1"},
        **extra,
    }


def request(method: str, params: dict[str, Any] | None = None, id_: int = 1,
            capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    body = dict(params or {})
    body["_meta"] = {**meta(capabilities), **body.get("_meta", {})}
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": body}


def headers(message: dict[str, Any], token: str | None = None, **extra: str) -> dict[str, str]:
    out = {**MCP_HEADERS, "MCP-Protocol-Version": MODERN, "Mcp-Method": message["method"]}
    params = message.get("params", {})
    if message["method"] in ("tools/call", "prompts/get"):
        out["Mcp-Name"] = params["name"]
    elif message["method"] == "resources/read":
        out["Mcp-Name"] = params["uri"]
    elif message["method"].startswith("tasks/"):
        out["Mcp-Name"] = params["taskId"]
    if token:
        out["Authorization"] = f"Bearer {token}"
    out.update(extra)
    return out


async def post(http: httpx.AsyncClient, url: str, message: dict[str, Any], token: str | None = None,
               **extra: str) -> httpx.Response:
    return await http.post(url, headers=headers(message, token, **extra), json=message)


def body(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer, from a JSON body or the last data event of an SSE body."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        events = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        messages = [json.loads(e) for e in events if e]
        answer: dict[str, Any] = messages[-1]
        return answer
    data: dict[str, Any] = response.json()
    return data
