"""MCP 2026-07-28 (SEP-2575): every request stands alone, declared by ``_meta`` and headers.

Validation order, each a 400: MCP-Protocol-Version header missing (-32020); ``_meta`` or its
required keys missing (-32602); header and ``_meta`` version differ (-32020); version not
spoken (-32022 with the supported list); Mcp-Method / Mcp-Name wrong (-32020). Then an
unknown method is 404 -32601, and a tool needing an undeclared client capability 400 -32021.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from mock_server.mcp import headers as header_rules
from mock_server.mcp import methods
from mock_server.mcp.context import Call, InputRequired
from mock_server.mcp.hub import Listener
from mock_server.mcp.protocol import (
    HEADER_MISMATCH,
    INSTRUCTIONS,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LOG_LEVELS,
    META_CAPABILITIES,
    META_LOG_LEVEL,
    META_SERVER_INFO,
    META_SUBSCRIPTION_ID,
    META_VERSION,
    METHOD_NOT_FOUND,
    MODERN_VERSION,
    SERVER_INFO,
    SSE_HEADERS,
    UNSUPPORTED_VERSION,
    VERSION_HEADER,
    RpcError,
    error_response,
    result_message,
    sse_event,
    wants_sse,
)
from mock_server.mcp.runtime import McpRuntime
from mock_server.mcp.streams import Emit, answer_json, answer_sse
from mock_server.state import MockState, TokenCheck

SUPPORTED = (MODERN_VERSION,)
CACHEABLE = {"server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list",
             "resources/read", "skills/list", "skills/get", "resources/directory/read"}
LISTEN_KEEPALIVE_SECONDS = 15.0
LISTEN_MAX_SECONDS = 3600.0


def _removed_method(method: str) -> RpcError:
    hint = " (MCP 2026-07-28 has no initialize: send _meta with every request)" if method == "initialize" else ""
    return RpcError(
        METHOD_NOT_FOUND,
        f"Method not found: {method}{hint}; this endpoint speaks MCP {', '.join(SUPPORTED)}",
        status=404,
    )


def validate(request: Request, message: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(version, params, _meta) of a well-formed 2026-07-28 request, else the RpcError to send."""
    method = message.get("method")
    header = request.headers.get(VERSION_HEADER)
    if header is None:
        extra = " (this server speaks only MCP 2026-07-28; legacy initialize is not supported)" if (
            method == "initialize") else ""
        raise RpcError(HEADER_MISMATCH, "Header mismatch: the MCP-Protocol-Version header is required" + extra,
                       status=400)
    header = header.strip(" \t")
    params = message.get("params", {})
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(params, dict) or not isinstance(meta, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: params._meta is required in MCP 2026-07-28", status=400)
    missing = [key for key in (META_VERSION, META_CAPABILITIES) if key not in meta]
    if missing:
        raise RpcError(INVALID_PARAMS, f"Invalid params: missing _meta keys: {', '.join(missing)}", status=400)
    version = meta[META_VERSION]
    if version != header:
        raise RpcError(HEADER_MISMATCH, "Header mismatch: MCP-Protocol-Version differs from _meta protocolVersion",
                       status=400)
    if version not in SUPPORTED:
        raise RpcError(UNSUPPORTED_VERSION, "Unsupported protocol version", status=400,
                       data={"supported": list(SUPPORTED), "requested": str(version)})
    if not isinstance(meta[META_CAPABILITIES], dict):
        raise RpcError(INVALID_PARAMS, f"Invalid params: _meta {META_CAPABILITIES} must be an object", status=400)
    if META_LOG_LEVEL in meta and meta[META_LOG_LEVEL] not in LOG_LEVELS:
        raise RpcError(INVALID_PARAMS, f"Invalid params: _meta {META_LOG_LEVEL} is not a log level", status=400)
    if isinstance(method, str):
        header_rules.check_standard(request.headers, method, params)
    return str(version), params, meta


def _finish(method: str, result: dict[str, Any] | InputRequired) -> dict[str, Any]:
    if isinstance(result, InputRequired):
        if method not in methods.INPUT_METHODS:
            raise RpcError(INVALID_REQUEST, f"{method} cannot ask for input")
        body: dict[str, Any] = {"resultType": "input_required", "inputRequests": result.requests}
        if result.state is not None:
            body["requestState"] = result.state
        return body
    body = {"resultType": "complete", **result}  # a CreateTaskResult keeps its "task"
    if method in CACHEABLE:
        # Lists can change at run time (test_trigger_tool_change), and answers depend on the token.
        body.setdefault("ttlMs", 0)
        body.setdefault("cacheScope", "private")
    return body


def discover_result() -> dict[str, Any]:
    return {
        "supportedVersions": list(SUPPORTED),
        "capabilities": methods.CAPABILITIES,
        "instructions": INSTRUCTIONS,
        "_meta": {META_SERVER_INFO: dict(SERVER_INFO)},
    }


async def handle(
    mock: MockState, runtime: McpRuntime, request: Request, auth: TokenCheck, message: dict[str, Any], prefer_sse: bool
) -> Response:
    id_ = message.get("id")
    method = message.get("method")
    is_request = "id" in message
    try:
        if not isinstance(method, str):
            raise RpcError(INVALID_REQUEST, "Invalid request: method must be a string", status=400)
        version, params, meta = validate(request, message)
        if not is_request:
            return Response(status_code=202)  # no client notifications are defined over HTTP; accept quietly
        if method == "server/discover":
            return JSONResponse(result_message(id_, _finish(method, discover_result())))
        if method != "subscriptions/listen" and method not in methods.HANDLERS:
            raise _removed_method(method)
        call = Call(
            mock=mock, auth=auth, version=version, params=params, capabilities=dict(meta[META_CAPABILITIES]),
            codec=runtime.codec, hub=runtime.hub, tasks=runtime.tasks, progress_token=meta.get("progressToken"), log_level=meta.get(META_LOG_LEVEL),
        )
        tool = methods.preflight(call, method)
        if method == "subscriptions/listen":
            return _listen(runtime, request, id_, params)
        if tool is not None:
            arguments = params.get("arguments") or {}
            header_rules.check_params(request.headers, tool, arguments if isinstance(arguments, dict) else {})
        if method in methods.INPUT_METHODS:
            _take_inputs(call, params)
    except methods.ScopeRequired as exc:
        from mock_server.mcp.bearer import insufficient_scope

        return insufficient_scope(mock, id_, exc.needed)
    except RpcError as exc:
        return error_response(id_, exc)

    async def work(emit: Emit) -> dict[str, Any]:
        async def notify(name: str, payload: dict[str, Any]) -> None:
            await emit({"jsonrpc": "2.0", "method": name, "params": payload})

        call.notify = notify
        result = await methods.HANDLERS[method](call)
        return result_message(id_, _finish(method, result))

    sse = bool(tool is not None and tool.streams and wants_sse(request.headers.get("accept", ""), True)) or prefer_sse
    if sse:
        return answer_sse(work, id_, stream_id=runtime.next_id("m"))
    return await answer_json(work, id_)


def _take_inputs(call: Call, params: dict[str, Any]) -> None:
    if "inputResponses" in params:
        responses = params["inputResponses"]
        if not isinstance(responses, dict):
            raise RpcError(INVALID_PARAMS, "Invalid params: inputResponses must be an object")
        call.input_responses = responses
    if "requestState" in params:
        state = params["requestState"]
        if not isinstance(state, str):
            raise RpcError(INVALID_PARAMS, "Invalid params: requestState must be a string")
        call.request_state = state


def _listen(runtime: McpRuntime, request: Request, id_: Any, params: dict[str, Any]) -> Response:
    wanted = params.get("notifications")
    if not isinstance(wanted, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: subscriptions/listen needs a notifications filter")
    if not wants_sse(request.headers.get("accept", ""), True):
        raise RpcError(INVALID_REQUEST, "subscriptions/listen answers with text/event-stream: accept it", status=406)
    listener = Listener(filter=dict(wanted), queue=asyncio.Queue(), subscription_id=id_)
    if not runtime.hub.add(listener):
        raise RpcError(INVALID_REQUEST, "Too many open subscriptions/listen streams", status=503)

    async def events() -> Any:
        try:
            ack = {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                   "params": {"notifications": listener.filter, "_meta": {META_SUBSCRIPTION_ID: id_}}}
            yield sse_event(ack)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + LISTEN_MAX_SECONDS
            while loop.time() < deadline:
                try:
                    note = await asyncio.wait_for(listener.queue.get(), LISTEN_KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ":\n\n"  # keep-alive comment
                    continue
                params_out = {**note["params"], "_meta": {META_SUBSCRIPTION_ID: id_}}
                yield sse_event({"jsonrpc": "2.0", "method": note["method"], "params": params_out})
            final = {"resultType": "complete", "_meta": {META_SUBSCRIPTION_ID: id_}}
            yield sse_event(result_message(id_, final))
        finally:
            runtime.hub.remove(listener)

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
