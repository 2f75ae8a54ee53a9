"""/mcp: one Streamable HTTP endpoint for both protocol eras, behind the same bearer check.

Order of checks: Origin (DNS rebinding), the bearer token (before the body is parsed, so a
401/403 with WWW-Authenticate looks the same in every era), transport rules (media types,
JSON-RPC shape), then the era: a request carrying 2026-07-28 ``_meta`` or a non-legacy
MCP-Protocol-Version header is served statelessly (stateless.py), everything else by the
handshake-era rules (legacy.py). ``--protocol`` pins one revision.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.authorize import mock_state
from mock_server.http_util import parse_json_object
from mock_server.mcp import bearer, legacy, stateless
from mock_server.mcp.protocol import (
    INVALID_REQUEST,
    LEGACY_VERSIONS,
    META_VERSION,
    MODERN_VERSION,
    PARSE_ERROR,
    PRE_HEADER_VERSIONS,
    VERSION_HEADER,
    rpc_error,
    wants_sse,
)
from mock_server.mcp.runtime import McpRuntime


def runtime_of(request: Request) -> McpRuntime:
    runtime: McpRuntime = request.app.state.mcp_runtime
    return runtime


def is_modern(protocol: str, request: Request, message: dict[str, Any]) -> bool:
    if protocol == MODERN_VERSION:
        return True
    if protocol != "auto":
        return False
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if isinstance(meta, dict) and META_VERSION in meta:
        return True
    header = request.headers.get(VERSION_HEADER)
    return header is not None and header.strip(" \t") not in (*LEGACY_VERSIONS, *PRE_HEADER_VERSIONS)


async def mcp_endpoint(request: Request) -> Response:
    mock = mock_state(request)
    runtime = runtime_of(request)
    mock.count("mcp_requests")
    origin = request.headers.get("origin")
    if origin is not None and not bearer.origin_allowed(mock, origin):
        return JSONResponse({"error": "forbidden", "error_description": "Origin not allowed"}, status_code=403)
    auth = bearer.authenticate(mock, request)
    if isinstance(auth, Response):
        return auth
    protocol = mock.knobs.protocol
    if request.method in ("GET", "DELETE"):
        if protocol == MODERN_VERSION:
            # 2026-07-28 has no GET stream and no sessions (transports: Backward Compatibility).
            return Response(status_code=405, headers={"Allow": "POST"})
        if request.method == "GET":
            return await legacy.get(mock, runtime, request, auth)
        return legacy.delete(mock, runtime, request, auth)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return rpc_error(None, INVALID_REQUEST, "Content-Type must be application/json", 415)
    sse = wants_sse(request.headers.get("accept", ""), mock.knobs.sse_responses)
    if sse is None:
        return rpc_error(None, INVALID_REQUEST, "Accept must include application/json and text/event-stream", 406)
    message = parse_json_object(await request.body())
    if message is None:
        return rpc_error(None, PARSE_ERROR, "Parse error: expected one JSON-RPC object", 400)
    if message.get("jsonrpc") != "2.0":
        return rpc_error(message.get("id"), INVALID_REQUEST, "jsonrpc must be 2.0", 400)
    id_ = message.get("id")
    if "id" in message and (isinstance(id_, bool) or not isinstance(id_, str | int)):
        return rpc_error(None, INVALID_REQUEST, "id must be a string or an integer", 400)
    if "method" in message and not isinstance(message["method"], str):
        return rpc_error(id_, INVALID_REQUEST, "method must be a string", 400)
    if is_modern(protocol, request, message):
        mock.count("mcp_era:2026-07-28")
        if "method" not in message:
            return rpc_error(None, INVALID_REQUEST, "Clients send no JSON-RPC responses in MCP 2026-07-28", 400)
        return await stateless.handle(mock, runtime, request, auth, message, sse)
    mock.count("mcp_era:handshake")
    return await legacy.handle(mock, runtime, request, auth, message, sse)
