"""One JSON-RPC exchange over Streamable HTTP: POST, then a JSON body or an event stream.

Shared by both protocol eras; what differs (headers, sessions, resumption,
server-to-client requests) is decided by the caller through arguments.

Status handling:

* 401 -> :class:`~..errors.InvalidTokenError`; 403 ``insufficient_scope`` ->
  :class:`~..errors.InsufficientScopeError` (both by :func:`.answers.token_refusal`,
  the bridge's rule too); any other 403 -> :class:`~..errors.ResourceAccessError`;
  all carry ``.challenge``. These are the same whatever the era: the token
  manager refreshes, signs in or steps up.
* 404 on a request that carried a legacy session id -> :class:`SessionExpired`.
* any other 4xx -> :class:`HttpRejected` with the parsed JSON body (if any),
  which era detection inspects; callers turn it into McpProtocolError.
* everything else that is not 2xx -> McpProtocolError.

Bodies and events are size-capped; JSON is parsed strictly; the
``Authorization`` header is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

import httpx

from .. import jsonutil
from ..errors import (
    InvalidJsonError,
    McpProtocolError,
    NetworkError,
    ResourceAccessError,
    ResponseTooLargeError,
    sanitize_server_text,
)
from ..http import network_error
from ..www_authenticate import bearer_challenge, describe_challenge
from .answers import match_response, media_type, read_capped, token_refusal
from .sse import SseEvent, SseParser, last_event_id_header

__all__ = ["Transport", "HttpRejected", "SessionExpired", "ServerRequestHandler", "MAX_STREAM_BYTES"]

log = logging.getLogger("mcp_auth_desktop.core.mcp_client")

#: Cap on everything read from one event stream (server chatter before the response).
MAX_STREAM_BYTES = 16 * 1024 * 1024
#: Reconnections of one event stream (legacy resumability), and the delays used.
_MAX_RESUMES = 3
_DEFAULT_RETRY_SECONDS = 1.0
_MAX_RETRY_SECONDS = 30.0
_ACCEPT = "application/json, text/event-stream"
_DRAIN_SECONDS = 0.5
_DRAIN_BYTES = 64 * 1024

#: Answers one request the server sent on a legacy event stream (returns the reply message).
ServerRequestHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class SessionExpired(Exception):
    """404 for a request carrying a session id: start a new legacy session."""


class HttpRejected(Exception):
    """A 4xx other than 401/403: the status and the JSON body, if the body was JSON."""

    def __init__(self, status: int, body: object) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


@dataclass(eq=False)
class Transport:
    """POSTs JSON-RPC messages to one MCP endpoint."""

    http: httpx.AsyncClient
    url: str
    #: The endpoint as messages name it (redacted: no query, no userinfo).
    where: str
    _: KW_ONLY
    #: Asked for the access token before every request (None: send none).
    token_provider: Callable[[], Awaitable[str | None]] | None
    #: Cap on one JSON body or one event.
    max_message_bytes: int
    #: Bound on one exchange, seconds.
    request_timeout: float

    async def base_headers(self) -> dict[str, str]:
        headers = {"Accept": _ACCEPT, "Content-Type": "application/json"}
        token = await self.token_provider() if self.token_provider is not None else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def post(
        self,
        message: dict[str, Any],
        extra_headers: dict[str, str],
        *,
        expect_id: int | None,
        method: str,
        has_session: bool = False,
        resumable: bool = False,
        on_server_request: ServerRequestHandler | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> dict[str, Any] | None:
        """Send one message; the JSON-RPC response with ``expect_id`` (None for a notification)."""
        body = jsonutil.dumps(message).encode("utf-8")
        headers = await self.base_headers()
        headers.update(extra_headers)
        log.debug("MCP %s -> %s", method, self.where)
        try:
            async with asyncio.timeout(self.request_timeout):
                async with self.http.stream("POST", self.url, content=body, headers=headers) as resp:
                    await self._check_status(resp, method, has_session)
                    if on_response is not None:
                        on_response(resp)
                    if expect_id is None:
                        return None  # a notification: 202 (or any 2xx) is all we need
                    kind = media_type(resp)
                    if kind == "text/event-stream":
                        return await self._from_stream(
                            resp, expect_id, method, extra_headers, resumable, on_server_request
                        )
                    if kind == "application/json" or kind.endswith("+json"):
                        return self._pick(jsonutil.loads(await self._read_capped(resp)), expect_id, method)
                    raise McpProtocolError(
                        f"The MCP server at {self.where} answered {method} with an unexpected "
                        f"content type ({sanitize_server_text(kind or 'none', 60)})."
                    )
        except TimeoutError:
            raise NetworkError(
                f"The MCP server at {self.where} did not answer {method} within {self.request_timeout:g} seconds."
            ) from None
        except httpx.HTTPError as exc:
            raise _network_error(exc, self.where) from None

    async def delete(self, extra_headers: dict[str, str]) -> None:
        headers = await self.base_headers()
        headers.update(extra_headers)
        await self.http.delete(self.url, headers=headers)

    # -- status ---------------------------------------------------------------------

    async def _check_status(self, resp: httpx.Response, method: str, has_session: bool) -> None:
        status = resp.status_code
        if 200 <= status < 300:
            return
        challenge = bearer_challenge(resp.headers.get_list("www-authenticate"))
        refusal = token_refusal(status, challenge, self.where, method=method)
        if refusal is not None:
            raise refusal
        if status == 403:
            described = describe_challenge(challenge)
            err = ResourceAccessError(
                f"The MCP server at {self.where} refused {method} (HTTP 403"
                + (f": {described}" if described else "")
                + ").",
                status=403,
            )
            err.challenge = challenge
            raise err
        if status == 404 and has_session and method != "initialize":
            raise SessionExpired()
        if 400 <= status < 500:
            raise HttpRejected(status, await self._json_or_none(resp))
        raise McpProtocolError(
            f"The MCP server at {self.where} answered {method} with HTTP {status}.", status=status
        )

    async def _json_or_none(self, resp: httpx.Response) -> object:
        """The body of an error response as JSON, or None (bounded, never raises for bad JSON)."""
        kind = media_type(resp)
        try:
            raw = await self._read_capped(resp)
        except ResponseTooLargeError:
            return None
        if kind == "text/event-stream":
            parser = SseParser(self.max_message_bytes)
            events = parser.feed(raw) + parser.feed(b"\n\n")
            raw = events[0].data.encode() if events else b""
        try:
            return jsonutil.loads(raw) if raw.strip() else None
        except (InvalidJsonError, UnicodeDecodeError, ResponseTooLargeError):
            return None

    async def _read_capped(self, resp: httpx.Response) -> bytes:
        return await read_capped(resp, self.max_message_bytes, self.where, "response")

    # -- event streams ------------------------------------------------------------

    async def _from_stream(
        self,
        resp: httpx.Response,
        expect_id: int,
        method: str,
        extra_headers: dict[str, str],
        resumable: bool,
        on_server_request: ServerRequestHandler | None,
    ) -> dict[str, Any]:
        """The response from an event stream; legacy streams closed early are resumed with GET.

        Resumability (2025-11-25, SEP-1699): a server that tagged its events with
        ``id:`` may end the stream before answering; the client reconnects with
        ``GET`` and ``Last-Event-ID`` after the ``retry:`` delay. Bounded. 2026-07-28
        has no resumption ("Resumable SSE streams via Last-Event-ID are not supported").
        """
        parser = SseParser(self.max_message_bytes)
        reply = await self._scan(resp, parser, expect_id, method, on_server_request, extra_headers)
        for _ in range(_MAX_RESUMES if resumable else 0):
            if reply is not None:
                return reply
            last_id = parser.last_event_id
            if last_id is None:
                break
            resume_id = last_event_id_header(last_id, self.where)
            delay = parser.retry_ms / 1000 if parser.retry_ms is not None else _DEFAULT_RETRY_SECONDS
            await asyncio.sleep(min(delay, _MAX_RETRY_SECONDS))
            plain = await self.base_headers()
            plain.update(extra_headers)
            plain.pop("Content-Type", None)
            plain["Accept"] = "text/event-stream"
            # As bytes: a non-ASCII id goes out as its UTF-8 (httpx would refuse it as str).
            headers = [(k.encode("ascii"), v.encode("latin-1")) for k, v in plain.items()]
            headers.append((b"Last-Event-ID", resume_id))
            log.debug("MCP: resuming the event stream for %s", method)
            async with self.http.stream("GET", self.url, headers=headers) as again:
                await self._check_status(again, method, has_session=False)
                if media_type(again) != "text/event-stream":
                    break
                reply = await self._scan(again, parser, expect_id, method, on_server_request, extra_headers)
        if reply is not None:
            return reply
        raise McpProtocolError(
            f"The MCP server at {self.where} closed the event stream without answering {method}."
        )

    async def _scan(
        self,
        resp: httpx.Response,
        parser: SseParser,
        expect_id: int,
        method: str,
        on_server_request: ServerRequestHandler | None,
        extra_headers: dict[str, str],
    ) -> dict[str, Any] | None:
        read = 0
        chunks = resp.aiter_bytes()
        async for chunk in chunks:
            read += len(chunk)
            if read > MAX_STREAM_BYTES or parser.dispatched_bytes > MAX_STREAM_BYTES:
                raise ResponseTooLargeError(
                    f"The MCP server at {self.where} sent more than {MAX_STREAM_BYTES} bytes "
                    f"of events without answering {method}."
                )
            for event in parser.feed(chunk):
                reply = await self._on_event(event, expect_id, on_server_request, extra_headers)
                if reply is not None:
                    await _drain(chunks)
                    return reply
        for event in parser.close():
            reply = await self._on_event(event, expect_id, on_server_request, extra_headers)
            if reply is not None:
                return reply
        return None

    async def _on_event(
        self,
        event: SseEvent,
        expect_id: int,
        on_server_request: ServerRequestHandler | None,
        extra_headers: dict[str, str],
    ) -> dict[str, Any] | None:
        if event.event != "message" or not event.data.strip():
            return None
        try:
            payload = jsonutil.loads(event.data)
        except InvalidJsonError:
            raise McpProtocolError(f"The MCP server at {self.where} sent an event that is not valid JSON.") from None
        reply = match_response(payload, expect_id)
        if reply is None:
            await self._answer_server_requests(payload, on_server_request, extra_headers)
        return reply

    async def listen(
        self,
        extra_headers: dict[str, str],
        on_server_request: ServerRequestHandler,
        opened: asyncio.Event,
    ) -> None:
        """Legacy only: the session's standalone GET stream, for requests the server sends there.

        Ends when the server closes it, answers anything but an event stream (405
        is common), or the connection idles out; ``opened`` is set either way.
        """
        headers = await self.base_headers()
        headers.update(extra_headers)
        headers.pop("Content-Type", None)
        headers["Accept"] = "text/event-stream"
        try:
            async with self.http.stream("GET", self.url, headers=headers) as resp:
                opened.set()
                if resp.status_code != 200 or media_type(resp) != "text/event-stream":
                    return
                parser = SseParser(self.max_message_bytes)
                read = 0
                chunks = resp.aiter_bytes()
                async for chunk in chunks:
                    read += len(chunk)
                    if read > MAX_STREAM_BYTES:
                        return
                    for event in parser.feed(chunk):
                        if event.event != "message" or not event.data.strip():
                            continue
                        try:
                            payload = jsonutil.loads(event.data)
                        except InvalidJsonError:
                            continue
                        await self._answer_server_requests(payload, on_server_request, extra_headers)
        except (httpx.HTTPError, McpProtocolError, ResponseTooLargeError, ResourceAccessError) as exc:
            log.debug("MCP: the GET stream of %s ended (%s)", self.where, type(exc).__name__)
        finally:
            opened.set()

    async def _answer_server_requests(
        self, payload: Any, handler: ServerRequestHandler | None, extra_headers: dict[str, str]
    ) -> None:
        """Answer requests the server sent on a legacy stream; notifications are skipped.

        Without a handler (2026-07-28 forbids such requests), they are ignored.
        """
        if handler is None:
            return
        for item in payload if isinstance(payload, list) else [payload]:
            if not isinstance(item, dict) or not isinstance(item.get("method"), str):
                continue
            rid = item.get("id")
            if rid is None or isinstance(rid, bool) or not isinstance(rid, str | int):
                continue  # a notification
            answer = await handler(item)
            log.debug("MCP: answering the server's %s request", sanitize_server_text(item["method"], 60))
            await self.post(answer, extra_headers, expect_id=None, method="a reply to the server")

    def _pick(self, payload: Any, expect_id: int, method: str) -> dict[str, Any]:
        reply = match_response(payload, expect_id)
        if reply is None:
            raise McpProtocolError(f"The MCP server at {self.where} sent no JSON-RPC response for {method}.")
        return reply


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read a stream to its end, briefly, after its answer came.

    The server should close the stream after the response (both eras say so). Reading
    on to that end lets httpx's nested stream generators finish in this task; one left
    suspended is finalised later by the loop, in another task, which httpcore's locks
    refuse ("exit cancel scope in a different task"). A stream that stays open is left.
    """
    left = _DRAIN_BYTES
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for chunk in chunks:
                left -= len(chunk)
                if left < 0:
                    return


def _network_error(exc: httpx.HTTPError, where: str) -> NetworkError:
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"Timed out talking to the MCP server at {where}.")
    if isinstance(exc, httpx.TransportError):
        # The same cause-naming as discovery: DNS failure, refused, TLS, each typed, with the host.
        return network_error(exc, where)
    return NetworkError(f"Could not talk to the MCP server at {where} ({type(exc).__name__}).")
