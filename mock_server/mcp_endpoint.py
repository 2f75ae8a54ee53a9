"""/mcp: a Streamable HTTP MCP endpoint (handshake era) behind bearer-token checks.

Order of checks: Origin (DNS rebinding), then the bearer token (before the body is even
parsed), then transport rules (method, media types, session, protocol version), then the
scope the JSON-RPC method needs.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server import scopes as scope_rules
from mock_server.authorize import mock_state
from mock_server.http_util import parse_json_object
from mock_server.state import McpSession, MockState, TokenCheck
from mock_server.tools import LIST_SCOPES, TOOLS, ToolInputError

SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
LATEST_VERSION = SUPPORTED_VERSIONS[0]
DEFAULT_HEADER_VERSION = "2025-03-26"
SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"
KNOWN_METHODS = ("initialize", "ping", "tools/list", "tools/call")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(mock: MockState, **params: str) -> str:
    """A Bearer challenge with resource_metadata always present (RFC 9728 §5.1)."""
    items = dict(params)
    items["resource_metadata"] = mock.prm_url
    ordered = ["error", "error_description", "scope", "resource_metadata"]
    parts = [f"{k}={_quote(items[k])}" for k in ordered if k in items]
    return "Bearer " + ", ".join(parts)


def _auth_error(mock: MockState, status: int, error: str | None, description: str) -> Response:
    if error is None:
        header = challenge(mock, scope=scope_rules.BASE_CHALLENGE_SCOPE)
        body: dict[str, str] = {"error": "unauthorized", "error_description": description}
    else:
        header = challenge(mock, error=error, error_description=description)
        body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers={"WWW-Authenticate": header})


def authenticate(mock: MockState, request: Request) -> TokenCheck | Response:
    """RFC 6750 header-only bearer authentication; query-string tokens are ignored."""
    headers = request.headers.getlist("authorization")
    if not headers:
        return _auth_error(mock, 401, None, "An access token is required")
    if len(headers) > 1:
        return _auth_error(mock, 400, "invalid_request", "Send exactly one Authorization header")
    scheme, _, token = headers[0].strip().partition(" ")
    if scheme.lower() != "bearer":
        return _auth_error(mock, 401, None, "Use the Bearer authentication scheme")
    token = token.strip()
    if not token or " " in token:
        return _auth_error(mock, 400, "invalid_request", "The Bearer credentials are malformed")
    check = mock.check_access_token(token)
    if not check.ok:
        mock.count("rs_invalid_token")
        return _auth_error(mock, 401, "invalid_token", check.description)
    return check


def _origin_allowed(mock: MockState, origin: str) -> bool:
    allowed = {mock.config.base_url}
    scheme, _, authority = mock.config.base_url.partition("://")
    _, _, port = authority.rpartition(":")
    if port.isascii() and port.isdigit():
        allowed.update(f"{scheme}://{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]"))
    return origin in allowed


def _rpc_error(id_: Any, code: int, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse(
        {"jsonrpc": "2.0", "id": id_, "error": {"code": code, "message": message}}, status_code=status
    )


def _insufficient_scope(mock: MockState, id_: Any, needed: tuple[str, ...]) -> Response:
    scope = scope_rules.join(needed)
    description = f"This operation needs the scope(s): {scope}"
    mock.count("rs_insufficient_scope")
    return JSONResponse(
        {"jsonrpc": "2.0", "id": id_, "error": {"code": -32001, "message": "insufficient_scope: " + description}},
        status_code=403,
        headers={
            "WWW-Authenticate": challenge(
                mock, error="insufficient_scope", scope=scope, error_description=description
            )
        },
    )


def _wants_sse(mock: MockState, accept: str) -> bool | None:
    """None when the client accepts neither JSON nor SSE."""
    media = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    json_ok = "application/json" in media or "*/*" in media
    sse_ok = "text/event-stream" in media
    if json_ok and sse_ok:
        return mock.knobs.sse_responses
    if sse_ok:
        return True
    if json_ok:
        return False
    return None


def _reply(result_message: dict[str, Any], sse: bool, headers: dict[str, str] | None = None) -> Response:
    if not sse:
        return JSONResponse(result_message, headers=headers)
    payload = json.dumps(result_message, separators=(",", ":"))
    body = f"event: message\nid: 1\ndata: {payload}\n\n"
    return Response(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", **(headers or {})},
    )


async def mcp_endpoint(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("mcp_requests")
    origin = request.headers.get("origin")
    if origin is not None and not _origin_allowed(mock, origin):
        return JSONResponse({"error": "forbidden", "error_description": "Origin not allowed"}, status_code=403)
    auth = authenticate(mock, request)
    if isinstance(auth, Response):
        return auth
    if request.method == "GET":
        return Response(status_code=405, headers={"Allow": "POST, DELETE"})
    if request.method == "DELETE":
        return _delete_session(mock, request, auth)
    return await _post(mock, request, auth)


def _session_for(mock: MockState, request: Request, auth: TokenCheck) -> McpSession | Response:
    session_id = request.headers.get(SESSION_HEADER)
    if not session_id:
        return _rpc_error(None, INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required", 400)
    session = mock.get_session(session_id)
    # A session is a handle, not a credential: it only works with a token of the same
    # user and client that created it (MCP security best practices).
    if (
        session is None
        or session.subject != auth.claims.get("sub")
        or session.client_id != auth.claims.get("client_id")
    ):
        return _rpc_error(None, INVALID_REQUEST, "Session not found", 404)
    return session


def _delete_session(mock: MockState, request: Request, auth: TokenCheck) -> Response:
    session = _session_for(mock, request, auth)
    if isinstance(session, Response):
        return session
    mock.end_session(session.session_id)
    return Response(status_code=204)


async def _post(mock: MockState, request: Request, auth: TokenCheck) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return _rpc_error(None, INVALID_REQUEST, "Content-Type must be application/json", 415)
    sse = _wants_sse(mock, request.headers.get("accept", ""))
    if sse is None:
        return _rpc_error(None, INVALID_REQUEST, "Accept must include application/json and text/event-stream", 406)
    message = parse_json_object(await request.body())
    if message is None:
        return _rpc_error(None, PARSE_ERROR, "Parse error: expected one JSON-RPC object", 400)
    if message.get("jsonrpc") != "2.0":
        return _rpc_error(message.get("id"), INVALID_REQUEST, "jsonrpc must be 2.0", 400)
    method = message.get("method")
    id_ = message.get("id")
    is_request = "id" in message and method is not None
    if method is None:
        # A response to a server request; this server never sends any, so just accept it.
        return Response(status_code=202)
    if not isinstance(method, str):
        return _rpc_error(id_, INVALID_REQUEST, "method must be a string", 400)
    if is_request and (isinstance(id_, bool) or not isinstance(id_, str | int)):
        return _rpc_error(None, INVALID_REQUEST, "id must be a string or an integer", 400)
    if is_request and method not in KNOWN_METHODS:
        return _rpc_error(id_, METHOD_NOT_FOUND, f"Method not found: {method}")
    header_version = request.headers.get(VERSION_HEADER)
    if header_version is not None and header_version not in SUPPORTED_VERSIONS:
        return _rpc_error(id_, INVALID_REQUEST, f"Unsupported MCP-Protocol-Version: {header_version}", 400)
    if method == "initialize":
        if not is_request:
            return _rpc_error(None, INVALID_REQUEST, "initialize must be a request", 400)
        return _initialize(mock, message, auth, bool(sse))
    session = _session_for(mock, request, auth)
    if isinstance(session, Response):
        return session
    if header_version is not None and header_version != session.protocol_version:
        return _rpc_error(id_, INVALID_REQUEST, "MCP-Protocol-Version differs from the negotiated version", 400)
    if not is_request:
        if method == "notifications/initialized":
            session.initialized = True
        return Response(status_code=202)
    params = message.get("params") or {}
    if not isinstance(params, dict):
        return _rpc_error(id_, INVALID_PARAMS, "params must be an object")
    if method == "ping":
        return _reply({"jsonrpc": "2.0", "id": id_, "result": {}}, bool(sse))
    if method == "tools/list":
        if not scope_rules.satisfies(auth.scopes, LIST_SCOPES):
            return _insufficient_scope(mock, id_, LIST_SCOPES)
        result = {"tools": [t.listing() for t in TOOLS.values()]}
        return _reply({"jsonrpc": "2.0", "id": id_, "result": result}, bool(sse))
    return _call_tool(mock, id_, params, auth, bool(sse))


def _initialize(mock: MockState, message: dict[str, Any], auth: TokenCheck, sse: bool) -> Response:
    params = message.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("protocolVersion"), str):
        return _rpc_error(message.get("id"), INVALID_PARAMS, "initialize needs params.protocolVersion")
    requested = params["protocolVersion"]
    version = requested if requested in SUPPORTED_VERSIONS else LATEST_VERSION
    session = mock.create_session(
        str(auth.claims.get("sub")), str(auth.claims.get("client_id")), version
    )
    result = {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "mcp-auth-mock-server", "version": "1.0.0"},
        "instructions": "Demo tools: echo, whoami, list_notes (mcp:read); write_note (mcp:write); "
        "share_note (mcp:write notes:share); admin_stats (mcp:admin).",
    }
    return _reply(
        {"jsonrpc": "2.0", "id": message.get("id"), "result": result},
        sse,
        headers={"Mcp-Session-Id": session.session_id},
    )


def _call_tool(mock: MockState, id_: Any, params: dict[str, Any], auth: TokenCheck, sse: bool) -> Response:
    name = params.get("name")
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        return _rpc_error(id_, INVALID_PARAMS, "Unknown tool")
    if not scope_rules.satisfies(auth.scopes, tool.scopes):
        return _insufficient_scope(mock, id_, tool.scopes)
    arguments = params.get("arguments") or {}
    if not isinstance(arguments, dict):
        return _rpc_error(id_, INVALID_PARAMS, "arguments must be an object")
    try:
        text = tool.run(mock, auth, arguments)
    except ToolInputError as exc:
        return _rpc_error(id_, INVALID_PARAMS, str(exc))
    mock.count(f"tool:{tool.name}")
    result = {"content": [{"type": "text", "text": text}], "isError": False}
    return _reply({"jsonrpc": "2.0", "id": id_, "result": result}, sse)
