"""Issue 15, finding 8: an SSE event id that is not ASCII crashed the client with a traceback.

The event-stream reader (httpx-sse's decoders under ``core/mcp/sse.py``) must
accept every id the WHATWG standard allows and resume a legacy stream with
exactly that id in ``Last-Event-ID`` (as its UTF-8 bytes, as browsers send
it); an id that cannot travel in an HTTP header is refused with the typed
``SseStreamError``. Nothing else may escape.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_auth_desktop.core.errors import McpProtocolError, SseStreamError
from mcp_auth_desktop.core.mcp import McpClient, SseEvent, SseParser

URL = "http://mcp.test/mcp"
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class ResumeServer:
    """POST: an event with the given id, then the stream ends; GET: records Last-Event-ID raw bytes."""

    event_id: str
    resumed_with: list[bytes] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            raw = [v for k, v in request.scope["headers"] if k.lower() == b"last-event-id"]
            self.resumed_with.extend(raw)
            return Response('data: {"jsonrpc":"2.0","id":1,"result":{"resumed":true}}\n\n', media_type="text/event-stream")
        body = f"id: {self.event_id}\nretry: 0\ndata: \n\n".encode()
        return Response(body, media_type="text/event-stream")


def _header_safe(raw: bytes) -> bool:
    return raw == raw.strip(b" \t") and not any(b < 0x20 and b != 0x09 or b == 0x7F for b in raw)


async def _resume(event_id: str) -> tuple[ResumeServer, object]:
    server = ResumeServer(event_id)
    app = Starlette(routes=[Route("/mcp", server.endpoint, methods=["POST", "GET"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        try:
            return server, await McpClient(http, URL).request("tools/call", {"name": "slow"})
        except SseStreamError as exc:
            return server, exc


# Ids as the standard allows them: any text without NUL, CR or LF (those end or void the field).
event_ids = st.text(min_size=1, max_size=40).filter(lambda s: not any(c in s for c in "\x00\r\n"))


@FUZZ
@given(event_ids)
def test_fuzz_any_event_id_resumes_exactly_or_is_refused_typed(event_id: str) -> None:
    server, outcome = asyncio.run(_resume(event_id))
    encodable = all(not 0xD800 <= ord(c) <= 0xDFFF for c in event_id)
    if isinstance(outcome, SseStreamError):
        assert not encodable or not _header_safe(event_id.encode("utf-8"))
        assert server.resumed_with == []
        assert "cannot be sent back" in outcome.user_message
    else:
        assert outcome == {"resumed": True}
        assert server.resumed_with == [event_id.encode("utf-8")]


@FUZZ
@given(event_ids, st.sampled_from(["\n", "\r\n", "\r"]))
def test_fuzz_parser_keeps_any_event_id(event_id: str, newline: str) -> None:
    parser = SseParser(4096)
    stream = f"id: {event_id}{newline}data: x{newline}{newline}".encode()
    assert parser.feed(stream) + parser.close() == [SseEvent("x", "message", event_id)]
    assert parser.last_event_id == event_id


@pytest.mark.parametrize("event_id", ["événement-42", "日本語", "id\twith tab"])
async def test_non_ascii_ids_resume_over_a_real_socket(event_id: str) -> None:
    server = ResumeServer(event_id)
    app = Starlette(routes=[Route("/mcp", server.endpoint, methods=["POST", "GET"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    try:
        for _ in range(250):
            if uv.started:
                break
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(trust_env=False) as http:
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
            assert await McpClient(http, url).request("tools/call", {"name": "slow"}) == {"resumed": True}
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
    assert server.resumed_with == [event_id.encode("utf-8")]


@pytest.mark.parametrize("event_id", ["bad\x01id", "x\x7f", " padded ", "\x0b"])
async def test_ids_that_cannot_be_sent_back_are_a_typed_error(event_id: str) -> None:
    server, outcome = await _resume(event_id)
    assert isinstance(outcome, SseStreamError) and isinstance(outcome, McpProtocolError)
    assert server.resumed_with == []



def test_retry_takes_ascii_digits_only() -> None:
    parser = SseParser(4096)
    assert parser.feed(b"retry: 250\n\n") == []
    for junk in ("\u0663", "+5", " 7", "-1", "1_0", "99999999999"):
        parser.feed(f"retry: {junk}\n\n".encode())
        assert parser.retry_ms == 250, junk
