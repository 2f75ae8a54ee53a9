"""The handshake era (2025-03-26, 2025-06-18, 2025-11-25): initialize, Mcp-Session-Id,
server-to-client requests on the POST's SSE stream, and SSE resumption by Last-Event-ID
for the stream a tool closes on purpose (SEP-1699)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mock_server.mcp import methods
from mock_server.mcp.context import Call, InputRequired
from mock_server.mcp.protocol import (
    INSTRUCTIONS,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LEGACY_VERSIONS,
    LOG_LEVELS,
    METHOD_NOT_FOUND,
    SERVER_INFO,
    SESSION_HEADER,
    SSE_HEADERS,
    VERSION_HEADER,
    RpcError,
    error_response,
    reply,
    result_message,
    rpc_error,
    sse_event,
    wants_sse,
)
from mock_server.mcp.runtime import McpRuntime, SessionLink
from mock_server.mcp.streams import Emit, answer_json, answer_sse
from mock_server.state import McpSession, MockState, TokenCheck

SESSION_METHODS = ("ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe")
CLIENT_ANSWER_SECONDS = 60.0
MAX_INPUT_ROUNDS = 5
MAX_REPLAYS = 16
"""Streams closed mid-call kept per session for Last-Event-ID resumption."""


def spoken_versions(protocol: str) -> tuple[str, ...]:
    return LEGACY_VERSIONS if protocol == "auto" else (protocol,) if protocol in LEGACY_VERSIONS else ()


def session_for(mock: MockState, request: Request, auth: TokenCheck) -> McpSession | Response:
    session_id = request.headers.get(SESSION_HEADER)
    if not session_id:
        return rpc_error(None, INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required", 400)
    session = mock.get_session(session_id)
    # A session is a handle, not a credential: it only works with a token of the same
    # user and client that created it (MCP security best practices).
    if (
        session is None
        or session.subject != auth.claims.get("sub")
        or session.client_id != auth.claims.get("client_id")
    ):
        return rpc_error(None, INVALID_REQUEST, "Session not found", 404)
    return session


def delete(mock: MockState, runtime: McpRuntime, request: Request, auth: TokenCheck) -> Response:
    session = session_for(mock, request, auth)
    if isinstance(session, Response):
        return session
    mock.end_session(session.session_id)
    runtime.links.pop(session.session_id, None)
    return Response(status_code=204)


async def get(mock: MockState, runtime: McpRuntime, request: Request, auth: TokenCheck) -> Response:
    """GET resumes a stream closed mid-call (Last-Event-ID); there is no standalone stream (405)."""
    last = request.headers.get("last-event-id")
    if last is None:
        return Response(status_code=405, headers={"Allow": "POST, DELETE"})
    session = session_for(mock, request, auth)
    if isinstance(session, Response):
        return session
    link = runtime.link(session.session_id)
    stream_id, _, number = last.rpartition("-")
    pending = link.replay.pop(stream_id, None)
    if pending is None or not number.isdigit():
        return rpc_error(None, INVALID_REQUEST, "No stream to resume for this Last-Event-ID", 404)

    async def events() -> Any:
        final = await pending
        yield sse_event(final, event_id=f"{stream_id}-{int(number) + 1}")

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


def _initialize(mock: MockState, runtime: McpRuntime, message: dict[str, Any], auth: TokenCheck, sse: bool) -> Response:
    params = message.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("protocolVersion"), str):
        return rpc_error(message.get("id"), INVALID_PARAMS, "initialize needs params.protocolVersion")
    spoken = spoken_versions(mock.knobs.protocol)
    requested = params["protocolVersion"]
    version = requested if requested in spoken else spoken[0]
    session = mock.create_session(str(auth.claims.get("sub")), str(auth.claims.get("client_id")), version)
    link = runtime.link(session.session_id)
    capabilities = params.get("capabilities")
    link.capabilities = dict(capabilities) if isinstance(capabilities, dict) else {}
    result = {
        "protocolVersion": version,
        "capabilities": methods.LEGACY_CAPABILITIES,
        "serverInfo": dict(SERVER_INFO),
        "instructions": INSTRUCTIONS,
    }
    return reply(result_message(message.get("id"), result), sse, headers={"Mcp-Session-Id": session.session_id})


async def handle(
    mock: MockState, runtime: McpRuntime, request: Request, auth: TokenCheck, message: dict[str, Any], prefer_sse: bool
) -> Response:
    method = message.get("method")
    id_ = message.get("id")
    is_request = "id" in message and method is not None
    header_version = request.headers.get(VERSION_HEADER)
    spoken = spoken_versions(mock.knobs.protocol)
    if header_version is not None and header_version.strip() not in spoken:
        return rpc_error(id_, INVALID_REQUEST, f"Unsupported MCP-Protocol-Version: {header_version}", 400)
    if method == "initialize":
        if not is_request:
            return rpc_error(None, INVALID_REQUEST, "initialize must be a request", 400)
        return _initialize(mock, runtime, message, auth, prefer_sse)
    # Like a 2025-only server: nothing but initialize works without a session, so a
    # 2026-07-28 probe (server/discover without a session) gets 400, not a JSON-RPC answer.
    session = session_for(mock, request, auth)
    if isinstance(session, Response):
        return session
    if header_version is not None and header_version.strip() != session.protocol_version:
        return rpc_error(id_, INVALID_REQUEST, "MCP-Protocol-Version differs from the negotiated version", 400)
    link = runtime.link(session.session_id)
    if method is None:
        _deliver_answer(link, message)
        return Response(status_code=202)
    if not is_request:
        if method == "notifications/initialized":
            session.initialized = True
        return Response(status_code=202)
    params = message.get("params") or {}
    if not isinstance(params, dict):
        return rpc_error(id_, INVALID_PARAMS, "params must be an object")
    if method in SESSION_METHODS:
        return _session_method(link, id_, method, params, prefer_sse)
    if method not in methods.HANDLERS or method in methods.TASK_METHODS:
        return rpc_error(id_, METHOD_NOT_FOUND, f"Method not found: {method}")
    meta = params["_meta"] if isinstance(params.get("_meta"), dict) else {}
    call = Call(
        mock=mock, auth=auth, version=session.protocol_version, params=params, capabilities=link.capabilities,
        codec=runtime.codec, hub=runtime.hub, tasks=runtime.tasks, progress_token=meta.get("progressToken"), log_level=link.log_level or "debug",
    )
    try:
        tool = methods.preflight(call, method)
    except methods.ScopeRequired as exc:
        from mock_server.mcp.bearer import insufficient_scope

        return insufficient_scope(mock, id_, exc.needed)
    except RpcError as exc:
        return error_response(id_, exc)

    async def work(emit: Emit) -> dict[str, Any]:
        return result_message(id_, await _run(runtime, call, link, method, emit))

    streams = tool is not None and tool.streams
    accepts_sse = wants_sse(request.headers.get("accept", ""), True)
    if streams and accepts_sse:
        stream_id = runtime.next_id("l")
        if tool is not None and tool.name == "test_reconnection":
            def keep(task: asyncio.Task[dict[str, Any]]) -> None:
                link.replay[stream_id] = task
                while len(link.replay) > MAX_REPLAYS:  # never resumed: forget the oldest
                    link.replay.pop(next(iter(link.replay))).cancel()

            return answer_sse(work, id_, stream_id=stream_id, close_early=keep)
        return answer_sse(work, id_, stream_id=stream_id)
    if prefer_sse:
        return answer_sse(work, id_, stream_id=runtime.next_id("l"))
    return await answer_json(work, id_)


async def _run(runtime: McpRuntime, call: Call, link: SessionLink, method: str, emit: Emit) -> dict[str, Any]:
    """Run the handler; send each input request to the client over the stream and retry with the answers."""

    async def notify(name: str, payload: dict[str, Any]) -> None:
        await emit({"jsonrpc": "2.0", "method": name, "params": payload})

    call.notify = notify
    answers: dict[str, Any] = {}
    for _ in range(MAX_INPUT_ROUNDS):
        call.input_responses = answers or None
        result = await methods.HANDLERS[method](call)
        if not isinstance(result, InputRequired):
            return result
        call.request_state = result.state
        for key, wanted in result.requests.items():
            answers[key] = await _ask(runtime, link, wanted, emit)
    raise RpcError(INVALID_REQUEST, "Too many rounds of input requests")


async def _ask(runtime: McpRuntime, link: SessionLink, wanted: dict[str, Any], emit: Emit) -> Any:
    request_id = runtime.next_id("srv-")
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    link.pending[request_id] = future
    try:
        await emit({"jsonrpc": "2.0", "id": request_id, "method": wanted["method"], "params": wanted.get("params", {})})
        return await asyncio.wait_for(future, CLIENT_ANSWER_SECONDS)
    except TimeoutError as exc:
        raise RpcError(INVALID_REQUEST, f"The client did not answer {wanted['method']} in time") from exc
    finally:
        link.pending.pop(request_id, None)


def _deliver_answer(link: SessionLink, message: dict[str, Any]) -> None:
    future = link.pending.get(str(message.get("id")))
    if future is None or future.done():
        return  # an answer nobody waits for (late, or never asked): accepted and dropped
    if isinstance(message.get("result"), dict):
        future.set_result(message["result"])
    else:
        error = message["error"] if isinstance(message.get("error"), dict) else {}
        future.set_exception(RpcError(INVALID_REQUEST, f"The client refused: {error.get('message', 'error')}"))


def _session_method(link: SessionLink, id_: Any, method: str, params: dict[str, Any], sse: bool) -> Response:
    if method == "logging/setLevel":
        level = params.get("level")
        if level not in LOG_LEVELS:
            return rpc_error(id_, INVALID_PARAMS, "level must be a syslog level name")
        link.log_level = str(level)
    elif method in ("resources/subscribe", "resources/unsubscribe"):
        uri = params.get("uri")
        if not isinstance(uri, str):
            return rpc_error(id_, INVALID_PARAMS, "params.uri must be a string")
        if method == "resources/subscribe":
            if len(link.subscriptions) >= 100:
                return rpc_error(id_, INVALID_PARAMS, "Too many subscriptions")
            link.subscriptions.add(uri)
        else:
            link.subscriptions.discard(uri)
    return reply(result_message(id_, {}), sse)

