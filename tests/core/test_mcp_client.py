"""The Streamable HTTP MCP client against a small Starlette server of our own (ASGI)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcp_auth_desktop.core.errors import (
    InsufficientScopeError,
    InvalidTokenError,
    McpProtocolError,
    NetworkError,
    ProtocolError,
    ResourceAccessError,
    ResponseTooLargeError,
)
from mcp_auth_desktop.core.mcp_client import McpClient, SseEvent, SseParser
from mcp_auth_desktop.core.www_authenticate import BearerChallenge

URL = "http://mcp.test/mcp"
TOKEN = "ACCESS-TOKEN-CANARY"
PRM = "http://mcp.test/.well-known/oauth-protected-resource/mcp"


@dataclass
class Server:
    """A scripted MCP endpoint; records every request it gets."""

    mode: str = "json"  # or "sse"
    version: str = "2025-06-18"
    session: str | None = "session-1"
    required_token: str = TOKEN
    admin_scope_granted: bool = False
    forget_session_once: bool = False
    seen: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, str]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 1

    def reply(self, message: dict[str, Any], extra: dict[str, str] | None = None) -> Response:
        if self.mode == "sse":
            body = (
                ": keep-alive comment\r\n\r\n"
                'event: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/message",'
                '"params":{"level":"info","data":"hi"}}\r\n\r\n'
                'data: {"jsonrpc":"2.0","id":"other","method":"ping"}\n\n'
                'data: [{"jsonrpc":"2.0","id":77,"method":"sampling/createMessage","params":{}}]\n\n'
            )
            text = json.dumps(message, indent=1)  # multi-line data
            body += "id: 7\n" + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n"
            return Response(body, media_type="text/event-stream", headers=extra)
        return JSONResponse(message, headers=extra)

    async def endpoint(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.deleted.append(dict(request.headers))
            return Response(status_code=204)
        msg = json.loads(await request.body())
        if isinstance(msg, dict) and "method" not in msg:
            self.answers.append(msg)  # the client's reply to a request of ours
            return Response(status_code=202)
        self.seen.append({"headers": dict(request.headers), "message": msg})
        if request.headers.get("authorization") != f"Bearer {self.required_token}":
            return Response(
                status_code=401,
                headers={
                    "WWW-Authenticate": f'Bearer resource_metadata="{PRM}", scope="mcp:read", '
                    'error="invalid_token", error_description="token expired"'
                },
            )
        method = msg.get("method")
        if method != "initialize" and self.session is not None:
            if request.headers.get("mcp-session-id") != self.session:
                return Response(status_code=400)
            if self.forget_session_once:
                self.forget_session_once = False
                return Response(status_code=404)
        if "id" not in msg:
            return Response(status_code=202)
        rid = msg["id"]
        if method == "initialize":
            extra = {"Mcp-Session-Id": self.session} if self.session else None
            return self.reply(
                {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "result": {
                        "protocolVersion": self.version,
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "test", "version": "1"},
                    },
                },
                extra,
            )
        if method == "tools/list":
            cursor = (msg.get("params") or {}).get("cursor")
            page = int(cursor) if cursor else 0
            result: dict[str, Any] = {"tools": [{"name": f"tool-{page}", "inputSchema": {}}]}
            if page + 1 < self.pages:
                result["nextCursor"] = str(page + 1)
            return self.reply({"jsonrpc": "2.0", "id": rid, "result": result})
        if method == "tools/call":
            name = msg["params"]["name"]
            if name == "admin" and not self.admin_scope_granted:
                return Response(
                    status_code=403,
                    headers={
                        "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                        f'scope="mcp:read admin:write", resource_metadata="{PRM}"'
                    },
                )
            if name == "forbidden":
                return Response(status_code=403)
            return self.reply(
                {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "result": {"content": [{"type": "text", "text": json.dumps(msg["params"]["arguments"])}]},
                }
            )
        return self.reply(
            {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"no method {method}\n[auth] forged"}}
        )


def make_client(server: Server, token: str | None = TOKEN) -> tuple[httpx.AsyncClient, McpClient]:
    app = Starlette(routes=[Route("/mcp", server.endpoint, methods=["POST", "DELETE"])])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))

    async def provider() -> str | None:
        return token

    return http, McpClient(http, URL, token_provider=provider)


@pytest.fixture
async def json_server() -> AsyncIterator[tuple[Server, McpClient]]:
    server = Server()
    http, client = make_client(server)
    yield server, client
    await http.aclose()


@pytest.mark.parametrize("mode", ["json", "sse"])
async def test_initialize_list_and_call(mode: str) -> None:
    server = Server(mode=mode)
    http, client = make_client(server)
    async with http:
        result = await client.initialize()
        assert result["serverInfo"] == {"name": "test", "version": "1"}
        assert client.session_id == "session-1"
        assert client.protocol_version == "2025-06-18"
        tools = await client.list_tools()
        assert [t["name"] for t in tools] == ["tool-0"]
        called = await client.call_tool("test-tool", {"a": 1})
        assert called["content"][0]["text"] == '{"a": 1}'
        await client.aclose()
    methods = [s["message"].get("method") for s in server.seen]
    assert methods == ["initialize", "notifications/initialized", "tools/list", "tools/call"]
    init = server.seen[0]
    assert init["message"]["params"]["protocolVersion"] == "2025-11-25"
    assert init["headers"]["accept"] == "application/json, text/event-stream"
    assert init["headers"]["content-type"] == "application/json"
    assert "mcp-session-id" not in init["headers"]
    assert "mcp-protocol-version" not in init["headers"]
    for later in server.seen[1:]:
        assert later["headers"]["mcp-session-id"] == "session-1"
        assert later["headers"]["mcp-protocol-version"] == "2025-06-18"
        assert later["headers"]["authorization"] == f"Bearer {TOKEN}"
    ids = [s["message"].get("id") for s in server.seen if "id" in s["message"]]
    assert len(set(ids)) == len(ids)
    assert len(server.deleted) == 1 and server.deleted[0]["mcp-session-id"] == "session-1"
    if mode == "sse":
        # Requests the server sent on each stream were answered: ping with {}, the rest refused.
        assert server.answers == [
            {"jsonrpc": "2.0", "id": "other", "result": {}},
            {"jsonrpc": "2.0", "id": 77, "error": {"code": -32601, "message": "Method not found"}},
        ] * 3
    else:
        assert server.answers == []


async def test_no_session_means_no_header_and_no_delete() -> None:
    server = Server(session=None)
    http, client = make_client(server)
    async with http:
        await client.initialize()
        await client.list_tools()
        await client.aclose()
    assert all("mcp-session-id" not in s["headers"] for s in server.seen)
    assert server.deleted == []


async def test_pagination_is_followed() -> None:
    server = Server(pages=3)
    http, client = make_client(server)
    async with http:
        await client.initialize()
        assert [t["name"] for t in await client.list_tools()] == ["tool-0", "tool-1", "tool-2"]


async def test_401_raises_invalid_token_with_the_challenge() -> None:
    server = Server()
    http, client = make_client(server, token="stale-token")
    async with http:
        with pytest.raises(InvalidTokenError) as info:
            await client.initialize()
    err = info.value
    assert err.status == 401
    assert err.challenge == BearerChallenge(
        resource_metadata=PRM, scope=("mcp:read",), error="invalid_token", error_description="token expired"
    )
    assert "stale-token" not in str(err)


async def test_401_on_a_later_request() -> None:
    server = Server()
    http, client = make_client(server)
    async with http:
        await client.initialize()
        server.required_token = "rotated"
        with pytest.raises(InvalidTokenError):
            await client.list_tools()


async def test_no_token_provider_sends_no_authorization() -> None:
    server = Server()
    app = Starlette(routes=[Route("/mcp", server.endpoint, methods=["POST", "DELETE"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        with pytest.raises(InvalidTokenError):
            await McpClient(http, URL).initialize()
    assert "authorization" not in server.seen[0]["headers"]


async def test_403_insufficient_scope_raises_with_the_scopes(json_server: tuple[Server, McpClient]) -> None:
    server, client = json_server
    await client.initialize()
    with pytest.raises(InsufficientScopeError) as info:
        await client.call_tool("admin", {})
    assert info.value.scopes == ("mcp:read", "admin:write")
    assert info.value.challenge is not None and info.value.challenge.resource_metadata == PRM
    server.admin_scope_granted = True
    assert (await client.call_tool("admin", {}))["content"]


async def test_plain_403_is_not_a_step_up(json_server: tuple[Server, McpClient]) -> None:
    _server, client = json_server
    await client.initialize()
    with pytest.raises(ResourceAccessError) as info:
        await client.call_tool("forbidden", {})
    assert not isinstance(info.value, InsufficientScopeError)
    assert info.value.status == 403


async def test_json_rpc_error_has_the_code_and_sanitised_text(json_server: tuple[Server, McpClient]) -> None:
    _server, client = json_server
    await client.initialize()
    with pytest.raises(McpProtocolError) as info:
        await client.request("nope/nothing")
    assert info.value.code == -32601
    assert "\n" not in str(info.value) and "no method nope/nothing" in str(info.value)


async def test_expired_session_is_reinitialized_once() -> None:
    server = Server()
    http, client = make_client(server)
    async with http:
        await client.initialize()
        server.forget_session_once = True
        tools = await client.list_tools()
    assert [t["name"] for t in tools] == ["tool-0"]
    methods = [s["message"].get("method") for s in server.seen]
    assert methods == [
        "initialize",
        "notifications/initialized",
        "tools/list",
        "initialize",
        "notifications/initialized",
        "tools/list",
    ]


async def test_network_failure_is_a_network_error() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as http:
        with pytest.raises(NetworkError) as info:
            await McpClient(http, URL).initialize()
    assert info.value.transient


def _mock(handler: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_oversized_json_body_is_refused() -> None:
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"x": "a" * 5000}})
    async with _mock(lambda r: httpx.Response(200, json=json.loads(big))) as http:
        with pytest.raises(ResponseTooLargeError):
            await McpClient(http, URL, max_message_bytes=1000).request("x")


async def test_oversized_sse_event_is_refused() -> None:
    body = "data: " + "a" * 5000 + "\n\n"
    async with _mock(lambda r: httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})) as http:
        with pytest.raises(ResponseTooLargeError):
            await McpClient(http, URL, max_message_bytes=1000).request("x")


async def test_stream_without_the_response_is_a_protocol_error() -> None:
    body = 'data: {"jsonrpc":"2.0","id":99,"result":{}}\n\ndata: {"jsonrpc":"2.0","id":1,"result":{}}'
    async with _mock(lambda r: httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})) as http:
        # The response with our id lacks its terminating blank line: never dispatched.
        with pytest.raises(McpProtocolError, match="without answering"):
            await McpClient(http, URL).request("x")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", "<html></html>"),
        ("application/json", '{"jsonrpc":"2.0","id":1,"result":NaN}'),
        ("application/json", '{"jsonrpc":"2.0","id":2,"result":{}}'),
        ("application/json", '{"jsonrpc":"2.0","id":1,"id":1,"result":{}}'),
        ("text/event-stream", "data: {not json\n\n"),
    ],
)
async def test_malformed_replies_are_protocol_errors(content_type: str, body: str) -> None:
    async with _mock(lambda r: httpx.Response(200, text=body, headers={"content-type": content_type})) as http:
        with pytest.raises(ProtocolError):  # McpProtocolError or InvalidJsonError
            await McpClient(http, URL).request("x")


async def test_batch_reply_with_our_id() -> None:
    body = '[{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":1,"result":{"ok":true}}]'
    async with _mock(lambda r: httpx.Response(200, text=body, headers={"content-type": "application/json"})) as http:
        assert await McpClient(http, URL).request("x") == {"ok": True}


async def test_server_error_status_is_a_protocol_error() -> None:
    async with _mock(lambda r: httpx.Response(500, text="boom")) as http:
        with pytest.raises(McpProtocolError, match="HTTP 500"):
            await McpClient(http, URL).request("x")


async def test_authorization_header_and_token_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = Server(mode="sse")
    http, client = make_client(server)
    async with http:
        await client.initialize()
        await client.list_tools()
        with pytest.raises(InsufficientScopeError):
            await client.call_tool("admin", {})
        await client.aclose()
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("mcp_auth_desktop"))
    assert TOKEN not in text and "Authorization" not in text and "Bearer" not in text


# --- the SSE parser --------------------------------------------------------------------


def feed_all(chunks: list[bytes]) -> list[SseEvent]:
    p = SseParser()
    out: list[SseEvent] = []
    for c in chunks:
        out += p.feed(c)
    return out + p.close()


def test_sse_fields_comments_and_line_endings() -> None:
    stream = (
        "\ufeff: comment\n"
        "event: custom\rdata: a\r\n"
        "data:b\n"
        "data\n"
        "id: 5\n"
        "retry: 100\n"
        "unknown: x\n"
        "\n"
        "data: second\n\n"
        "\n\n"
        "data: unterminated"
    ).encode()
    assert feed_all([stream]) == [SseEvent("a\nb\n", "custom", "5"), SseEvent("second", "message", "5")]


@given(st.data())
@settings(max_examples=100)
def test_sse_any_chunking_gives_the_same_events(data: st.DataObject) -> None:
    stream = (
        'data: {"jsonrpc":"2.0",\r\ndata: "id":1}\r\n\r\n: ping\n\nevent: message\ndata: caf\u00e9 \u2603\n\n'
    ).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert feed_all(chunks) == [
        SseEvent('{"jsonrpc":"2.0",\n"id":1}'),
        SseEvent("caf\u00e9 \u2603"),
    ]


def test_sse_caps() -> None:
    p = SseParser(max_event_bytes=100)
    with pytest.raises(ResponseTooLargeError):
        p.feed(b"data: " + b"x" * 200)  # one unterminated line over the cap
    p2 = SseParser(max_event_bytes=100)
    with pytest.raises(ResponseTooLargeError):
        for _ in range(20):
            p2.feed(b"data: " + b"x" * 10 + b"\n")


def test_sse_many_short_lines_in_one_chunk_is_linear() -> None:
    # 200k blank-ish lines in one chunk must not be quadratic (a slow test would time out).
    events = SseParser().feed(b":\n" * 200_000 + b"data: end\n\n")
    assert events == [SseEvent("end")]


async def test_an_event_stream_of_only_keepalives_times_out() -> None:
    async def keepalives() -> AsyncIterator[bytes]:
        for _ in range(10_000):  # bounded; the client gives up long before
            yield b": ping\n\n"
            await asyncio.sleep(0.01)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=keepalives())

    async with _mock(handler) as http:
        with pytest.raises(NetworkError, match="did not answer tools/list within 0.3 seconds"):
            await McpClient(http, URL, request_timeout=0.3).request("tools/list")


# --- interop with the official MCP Python SDK server, over a real uvicorn socket ------


@pytest.fixture
async def sdk_server(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    from mcp.server.mcpserver import MCPServer

    srv = MCPServer("interop")

    @srv.tool()
    def add(a: int, b: int) -> str:
        """Add two numbers."""
        return str(a + b)

    app = srv.streamable_http_app(json_response=request.param == "json")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(250):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.mark.e2e
@pytest.mark.parametrize("sdk_server", ["sse", "json"], indirect=True)
async def test_interop_with_the_official_sdk_server(sdk_server: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        client = McpClient(http, sdk_server)
        result = await client.initialize()
        assert result["serverInfo"]["name"] == "interop"
        assert client.session_id and client.protocol_version == "2025-11-25"
        tools = await client.list_tools()
        assert [t["name"] for t in tools] == ["add"]
        called = await client.call_tool("add", {"a": 2, "b": 3})
        assert called["content"][0]["text"] == "5" and called["isError"] is False
        with pytest.raises(McpProtocolError):
            await client.request("no/such/method")
        await client.aclose()
        assert client.session_id is None


# --- resumability: the server ends the stream early, the client resumes with GET ------


@dataclass
class ResumingServer:
    answer_on_get: bool = True
    gets: list[dict[str, str]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            self.gets.append(dict(request.headers))
            body = f"id: g{len(self.gets)}\ndata: \n\n"
            if self.answer_on_get:
                body += 'event: message\nid: g-final\ndata: {"jsonrpc":"2.0","id":1,"result":{"resumed":true}}\n\n'
            return Response(body, media_type="text/event-stream")
        # The POST stream: a priming event with an id and a retry delay, then a graceful close.
        return Response("id: e1\nretry: 5\ndata: \n\n", media_type="text/event-stream")


def _resuming_client(server: ResumingServer) -> tuple[httpx.AsyncClient, McpClient]:
    app = Starlette(routes=[Route("/mcp", server.endpoint, methods=["POST", "GET"])])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))

    async def provider() -> str | None:
        return TOKEN

    return http, McpClient(http, URL, token_provider=provider)


async def test_a_gracefully_closed_stream_is_resumed_with_last_event_id() -> None:
    server = ResumingServer()
    http, client = _resuming_client(server)
    async with http:
        assert await client.request("tools/call", {"name": "slow"}) == {"resumed": True}
    [get] = server.gets
    assert get["last-event-id"] == "e1"
    assert get["accept"] == "text/event-stream"
    assert get["authorization"] == f"Bearer {TOKEN}"
    assert "content-type" not in get


async def test_resumption_is_bounded() -> None:
    server = ResumingServer(answer_on_get=False)
    http, client = _resuming_client(server)
    async with http:
        with pytest.raises(McpProtocolError, match="without answering tools/call"):
            await client.request("tools/call", {"name": "slow"})
    # Each GET resumes from the id the previous stream ended with.
    assert [g["last-event-id"] for g in server.gets] == ["e1", "g1", "g2"]


def test_sse_parser_keeps_id_and_retry_across_streams() -> None:
    p = SseParser()
    assert p.feed(b"id: a\nretry: 250\ndata: x\n\ndata: partial") == [SseEvent("x", "message", "a")]
    p.close()
    assert (p.last_event_id, p.retry_ms) == ("a", 250)
    assert p.feed(b"\n\ndata: y\n\n") == [SseEvent("y", "message", "a")]  # partial was discarded
    assert p.feed(b"retry: soon\nretry: 99999999999\n\n") == []
    assert p.retry_ms == 250
    assert p.dispatched_bytes == len("x\n") + len("y\n")
