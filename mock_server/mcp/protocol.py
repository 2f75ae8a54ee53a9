"""Protocol constants shared by both eras, and the JSON-RPC / SSE reply helpers.

Error codes and header names follow MCP 2026-07-28 (basic/index, transports/streamable-http,
versioning) and, for the handshake era, 2025-11-25.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

MODERN_VERSION = "2026-07-28"
LEGACY_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
"""Handshake-era revisions this server speaks, newest first."""
PRE_HEADER_VERSIONS = ("2024-11-05",)
"""Revisions older than the MCP-Protocol-Version header; never spoken, but recognised as legacy."""
PROTOCOL_CHOICES = ("auto", MODERN_VERSION, *LEGACY_VERSIONS)

# HTTP headers (case-insensitive names).
VERSION_HEADER = "mcp-protocol-version"
SESSION_HEADER = "mcp-session-id"
METHOD_HEADER = "mcp-method"
NAME_HEADER = "mcp-name"
PARAM_HEADER_PREFIX = "mcp-param-"

# _meta keys of MCP 2026-07-28 requests and results.
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"

# JSON-RPC error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_VERSION = -32022
RESOURCE_NOT_FOUND_LEGACY = -32002

SERVER_INFO = {"name": "mcp-auth-mock-server", "version": "1.0.0"}
INSTRUCTIONS = (
    "Demo tools: echo, whoami, list_notes, regional_echo, confirm_action (mcp:read); write_note (mcp:write); "
    "share_note (mcp:write notes:share); admin_stats (mcp:admin). Tools named test_* and the test:// "
    "resources and test_* prompts are the fixtures of the official MCP conformance suite."
)
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


class RpcError(Exception):
    """A JSON-RPC error answer, with the HTTP status the transport rules give it."""

    def __init__(self, code: int, message: str, *, status: int = 200, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self, id_: Any) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return {"jsonrpc": "2.0", "id": id_, "error": error}


def rpc_error(id_: Any, code: int, message: str, status: int = 200, data: Any = None) -> JSONResponse:
    return JSONResponse(RpcError(code, message, data=data).body(id_), status_code=status)


def error_response(id_: Any, error: RpcError) -> JSONResponse:
    return JSONResponse(error.body(id_), status_code=error.status)


def result_message(id_: Any, result: Mapping[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "result": dict(result)}


def sse_event(message: Mapping[str, Any] | None, event_id: str | None = None, retry_ms: int | None = None) -> str:
    """One SSE event; ``message`` None gives a priming event (an id and empty data)."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    if message is None:
        lines.append("data: ")
    else:
        lines.append("event: message")
        lines.append("data: " + json.dumps(message, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def reply(message: Mapping[str, Any], sse: bool, headers: Mapping[str, str] | None = None) -> Response:
    """A whole answer at once, as JSON or as a one-event SSE stream."""
    if not sse:
        return JSONResponse(dict(message), headers=dict(headers or {}))
    return Response(
        sse_event(message, event_id="1"),
        media_type="text/event-stream",
        headers={**SSE_HEADERS, **(headers or {})},
    )


def wants_sse(accept: str, prefer_sse: bool) -> bool | None:
    """None when the client accepts neither JSON nor SSE."""
    media = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    json_ok = "application/json" in media or "*/*" in media
    sse_ok = "text/event-stream" in media
    if json_ok and sse_ok:
        return prefer_sse
    if sse_ok:
        return True
    if json_ok:
        return False
    return None
