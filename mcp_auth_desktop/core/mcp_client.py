"""A minimal MCP client over the Streamable HTTP transport, with an auth hook.

Each JSON-RPC message is one ``POST`` to the MCP endpoint with
``Accept: application/json, text/event-stream``. The server answers a request
either with a JSON body or with a Server-Sent Events stream that carries the
response (possibly after requests and notifications of its own, which this
client does not serve and skips). ``initialize`` negotiates the protocol
version; afterwards every request carries ``MCP-Protocol-Version`` and, when
the server issued one, ``Mcp-Session-Id``. :meth:`McpClient.aclose` ends the
session with ``DELETE``.

Authorization is the caller's business: ``token_provider`` returns the access
token to send, and refusals come back as typed errors so the token manager can
refresh, sign in, or step up:

* 401 -> :class:`~.errors.InvalidTokenError`
* 403 ``insufficient_scope`` -> :class:`~.errors.InsufficientScopeError`
  (``scopes`` from the challenge)
* both carry ``.challenge``, the parsed ``WWW-Authenticate`` Bearer challenge.

The ``Authorization`` header is never logged. Bodies and SSE events are
size-capped; JSON is parsed strictly.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from . import jsonutil
from .errors import (
    InsufficientScopeError,
    InvalidJsonError,
    InvalidTokenError,
    McpProtocolError,
    NetworkError,
    ResourceAccessError,
    ResponseTooLargeError,
    sanitize_server_text,
)
from .urls import redact_url
from .www_authenticate import BearerChallenge, bearer_challenge

__all__ = [
    "McpClient",
    "SseEvent",
    "SseParser",
    "DEFAULT_PROTOCOL_VERSION",
    "MAX_MESSAGE_BYTES",
]

log = logging.getLogger(__name__)

DEFAULT_PROTOCOL_VERSION = "2025-11-25"
#: Cap on one JSON body or one SSE event.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: Cap on everything read from one SSE stream (server chatter before the response).
MAX_STREAM_BYTES = 16 * 1024 * 1024
_MAX_LIST_PAGES = 50
#: Reconnections of one event stream (resumability), and the delays used.
_MAX_RESUMES = 3
_DEFAULT_RETRY_SECONDS = 1.0
_MAX_RETRY_SECONDS = 30.0
_ACCEPT = "application/json, text/event-stream"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

TokenProvider = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class SseEvent:
    """One dispatched Server-Sent Event."""

    data: str
    event: str = "message"
    id: str | None = None


class SseParser:
    """Incremental parser for ``text/event-stream`` (WHATWG HTML §9.2.6).

    Feed it bytes as they arrive; it returns the events completed so far.
    A line or an event's data over ``max_event_bytes`` raises
    ResponseTooLargeError.
    """

    def __init__(self, max_event_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._max = max_event_bytes
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        #: Data characters dispatched so far, over every stream fed to this parser.
        self.dispatched_bytes = 0
        self._first = True

    def feed(self, chunk: bytes) -> list[SseEvent]:
        text = self._decoder.decode(chunk)
        if self._first and text:
            self._first = False
            text = text.removeprefix("\ufeff")
        self._buffer += text
        out: list[SseEvent] = []
        buf = self._buffer
        pos = 0
        while True:
            cut = self._line_end(buf, pos)
            if cut is None:
                break
            end, nxt = cut
            self._line(buf[pos:end], out)
            pos = nxt
        self._buffer = buf[pos:]
        if len(self._buffer) > self._max:
            raise ResponseTooLargeError(f"An event from the MCP server is larger than {self._max} bytes.")
        return out

    def close(self) -> list[SseEvent]:
        """End of one stream: an event without its final blank line is discarded (per spec).

        The last event ID and the retry delay survive, for a resumed stream.
        """
        self._buffer = ""
        self._data, self._data_size, self._event = [], 0, ""
        self._decoder.reset()
        self._first = True
        return []

    @property
    def last_event_id(self) -> str | None:
        """The last ``id:`` seen (the Last-Event-ID to resume with), if any."""
        return self._id or None

    @property
    def retry_ms(self) -> int | None:
        """The server's reconnection delay from the last ``retry:`` field, if any."""
        return self._retry

    @staticmethod
    def _line_end(buf: str, pos: int) -> tuple[int, int] | None:
        """(end of line, start of next) for the line starting at ``pos``; None if incomplete."""
        m = _LINE_BREAK.search(buf, pos)
        if m is None:
            return None
        if m.group() == "\r" and m.end() == len(buf):
            return None  # a CR at the end may be the first half of CRLF
        return m.start(), m.end()

    def _line(self, line: str, out: list[SseEvent]) -> None:
        if line == "":
            if self._data:
                out.append(SseEvent("\n".join(self._data), self._event or "message", self._id))
                self.dispatched_bytes += self._data_size
            self._data, self._data_size, self._event = [], 0, ""
            return
        if line.startswith(":"):
            return  # comment / keep-alive
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data_size += len(value) + 1
            if self._data_size > self._max:
                raise ResponseTooLargeError(
                    f"An event from the MCP server is larger than {self._max} bytes."
                )
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\x00" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit() and len(value) <= 9:
            self._retry = int(value)


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()


class McpClient:
    """JSON-RPC over Streamable HTTP to one MCP endpoint; see the module docstring."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        token_provider: TokenProvider | None = None,
        protocol_version: str = DEFAULT_PROTOCOL_VERSION,
        client_info: dict[str, Any] | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        request_timeout: float = 120.0,
    ) -> None:
        self._http = http
        self._url = url
        self._where = redact_url(url)
        self._token_provider = token_provider
        self._requested_version = protocol_version
        self._client_info = client_info or {"name": "mcp-auth-desktop", "version": "0.1.0"}
        self._max = max_message_bytes
        # Per-read timeouts come from the http client; this bounds a whole exchange,
        # so an event stream that only sends keep-alives cannot hang a request.
        self._request_timeout = request_timeout
        self._next_id = 1
        self.session_id: str | None = None
        #: The protocol version the server agreed to; None before initialize().
        self.protocol_version: str | None = None
        self.server_info: dict[str, Any] = {}
        self.server_capabilities: dict[str, Any] = {}

    # -- public API -------------------------------------------------------------

    async def initialize(self) -> dict[str, Any]:
        """``initialize`` then ``notifications/initialized``; returns the server's result."""
        self.session_id = None
        self.protocol_version = None
        result = await self._request(
            "initialize",
            {
                "protocolVersion": self._requested_version,
                "capabilities": {},
                "clientInfo": self._client_info,
            },
        )
        if not isinstance(result, dict):
            raise McpProtocolError(f"The MCP server at {self._where} sent a malformed initialize result.")
        version = result.get("protocolVersion")
        self.protocol_version = version if isinstance(version, str) and version else self._requested_version
        info = result.get("serverInfo")
        self.server_info = info if isinstance(info, dict) else {}
        caps = result.get("capabilities")
        self.server_capabilities = caps if isinstance(caps, dict) else {}
        await self.notify("notifications/initialized")
        return result

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send one request and return its ``result``.

        When the server has forgotten our session (404 with a session id), the
        session is re-initialized once and the request retried.
        """
        if method == "initialize":
            return await self.initialize()
        try:
            return await self._request(method, params)
        except _SessionExpired:
            log.info("MCP session at %s expired; initializing a new one", self._where)
            await self.initialize()
            return await self._request(method, params)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._post(message, expect_id=None, method=method)

    async def list_tools(self) -> list[dict[str, Any]]:
        """All tools, following ``nextCursor`` (bounded)."""
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(_MAX_LIST_PAGES):
            result = await self.request("tools/list", {"cursor": cursor} if cursor else None)
            if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
                raise McpProtocolError(f"The MCP server at {self._where} sent a malformed tools list.")
            tools.extend(t for t in result["tools"] if isinstance(t, dict))
            nxt = result.get("nextCursor")
            if not isinstance(nxt, str) or not nxt:
                break
            cursor = nxt
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.request("tools/call", {"name": name, "arguments": arguments or {}})
        if not isinstance(result, dict):
            raise McpProtocolError(f"The MCP server at {self._where} sent a malformed tool result.")
        return result

    async def aclose(self) -> None:
        """End the session (``DELETE``) if the server issued one; errors are ignored."""
        session, self.session_id = self.session_id, None
        if session is None:
            return
        try:
            headers = await self._headers(session_id=session)
            await self._http.delete(self._url, headers=headers)
        except (httpx.HTTPError, ResourceAccessError, NetworkError) as exc:
            log.debug("ending the MCP session at %s failed: %s", self._where, type(exc).__name__)

    async def __aenter__(self) -> McpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- internals ----------------------------------------------------------------

    async def _request(self, method: str, params: dict[str, Any] | None) -> Any:
        request_id = self._next_id
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        reply = await self._post(message, expect_id=request_id, method=method)
        if reply is None:  # only notifications get no reply; keeps the type checker honest
            raise McpProtocolError(f"The MCP server at {self._where} sent no reply to {method}.")
        if "error" in reply:
            err = reply["error"]
            code = err.get("code") if isinstance(err, dict) else None
            text = err.get("message") if isinstance(err, dict) else None
            raise McpProtocolError(
                f"The MCP server rejected {method}: {sanitize_server_text(text or 'no message')}"
                + (f" (code {code})" if isinstance(code, int) else ""),
                code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            )
        return reply.get("result")

    async def _headers(self, *, session_id: str | None = None) -> dict[str, str]:
        headers = {"Accept": _ACCEPT, "Content-Type": "application/json"}
        token = await self._token_provider() if self._token_provider is not None else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        sid = session_id if session_id is not None else self.session_id
        if sid:
            headers["Mcp-Session-Id"] = sid
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    async def _post(
        self, message: dict[str, Any], *, expect_id: int | None, method: str
    ) -> dict[str, Any] | None:
        body = jsonutil.dumps(message).encode("utf-8")
        headers = await self._headers()
        log.debug("MCP %s -> %s", method, self._where)
        try:
            async with asyncio.timeout(self._request_timeout):
                return await self._exchange(body, headers, expect_id=expect_id, method=method)
        except TimeoutError:
            raise NetworkError(
                f"The MCP server at {self._where} did not answer {method} within "
                f"{self._request_timeout:g} seconds."
            ) from None
        except httpx.HTTPError as exc:
            raise _network_error(exc, self._where) from None

    async def _exchange(
        self, body: bytes, headers: dict[str, str], *, expect_id: int | None, method: str
    ) -> dict[str, Any] | None:
        async with self._http.stream("POST", self._url, content=body, headers=headers) as resp:
            self._check_status(resp, method)
            if method == "initialize":
                sid = resp.headers.get("mcp-session-id")
                if sid and sid.isascii() and sid.isprintable() and len(sid) <= 1024:
                    self.session_id = sid
            if expect_id is None:
                return None  # a notification: 202 (or any 2xx) is all we need
            kind = _media_type(resp)
            if kind == "text/event-stream":
                return await self._from_stream(resp, expect_id, method)
            if kind == "application/json" or kind.endswith("+json"):
                return self._pick(jsonutil.loads(await self._read_capped(resp)), expect_id, method)
            raise McpProtocolError(
                f"The MCP server at {self._where} answered {method} with an unexpected "
                f"content type ({sanitize_server_text(kind or 'none', 60)})."
            )

    def _check_status(self, resp: httpx.Response, method: str) -> None:
        status = resp.status_code
        if 200 <= status < 300:
            return
        challenge = bearer_challenge(resp.headers.get_list("www-authenticate"))
        if status == 401:
            err: ResourceAccessError = InvalidTokenError(
                f"The MCP server at {self._where} did not accept the access token "
                f"({_describe(challenge) or 'HTTP 401'}). Refresh the token or sign in again.",
                status=401,
            )
            err.challenge = challenge
            raise err
        if status == 403 and challenge is not None and challenge.error == "insufficient_scope":
            scopes = challenge.scope or ()
            err = InsufficientScopeError(
                f"The MCP server at {self._where} needs more permissions for {method}"
                + (f" (scopes: {' '.join(scopes)})" if scopes else "")
                + ". Sign in again to grant them.",
                scopes=scopes,
            )
            err.challenge = challenge
            raise err
        if status == 403:
            err = ResourceAccessError(
                f"The MCP server at {self._where} refused {method} (HTTP 403"
                + (f": {_describe(challenge)}" if challenge and _describe(challenge) else "")
                + ").",
                status=403,
            )
            err.challenge = challenge
            raise err
        if status == 404 and self.session_id is not None and method != "initialize":
            raise _SessionExpired()
        raise McpProtocolError(f"The MCP server at {self._where} answered {method} with HTTP {status}.")

    async def _read_capped(self, resp: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.aiter_bytes():
            total += len(chunk)
            if total > self._max:
                raise ResponseTooLargeError(
                    f"The MCP server at {self._where} sent a response larger than {self._max} bytes."
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def _from_stream(self, resp: httpx.Response, expect_id: int, method: str) -> dict[str, Any]:
        """The response from an event stream, resuming it with GET when the server closes it early.

        Streamable HTTP resumability (SEP-1699): a server that tagged its events
        with ``id:`` may end the stream before answering; the client reconnects
        with ``GET`` and ``Last-Event-ID`` after the ``retry:`` delay. Bounded.
        """
        parser = SseParser(self._max)
        reply = await self._scan(resp, parser, expect_id, method)
        for _ in range(_MAX_RESUMES):
            if reply is not None:
                return reply
            last_id = parser.last_event_id
            if last_id is None:
                break
            delay = parser.retry_ms / 1000 if parser.retry_ms is not None else _DEFAULT_RETRY_SECONDS
            await asyncio.sleep(min(delay, _MAX_RETRY_SECONDS))
            headers = await self._headers()
            headers.pop("Content-Type", None)
            headers["Accept"] = "text/event-stream"
            headers["Last-Event-ID"] = last_id
            log.debug("MCP: resuming the event stream for %s", method)
            async with self._http.stream("GET", self._url, headers=headers) as again:
                self._check_status(again, method)
                if _media_type(again) != "text/event-stream":
                    break
                reply = await self._scan(again, parser, expect_id, method)
        if reply is not None:
            return reply
        raise McpProtocolError(
            f"The MCP server at {self._where} closed the event stream without answering {method}."
        )

    async def _scan(
        self,
        resp: httpx.Response,
        parser: SseParser,
        expect_id: int,
        method: str,
    ) -> dict[str, Any] | None:
        async for event in _events(resp, parser):
            if parser.dispatched_bytes > MAX_STREAM_BYTES:
                raise ResponseTooLargeError(
                    f"The MCP server at {self._where} sent more than {MAX_STREAM_BYTES} bytes "
                    f"of events without answering {method}."
                )
            if event.event != "message" or not event.data.strip():
                continue
            try:
                payload = jsonutil.loads(event.data)
            except InvalidJsonError:
                raise McpProtocolError(
                    f"The MCP server at {self._where} sent an event that is not valid JSON."
                ) from None
            reply = self._match(payload, expect_id)
            if reply is not None:
                return reply
            await self._answer_server_requests(payload)
        return None

    async def _answer_server_requests(self, payload: Any) -> None:
        """Answer requests the server sends on the stream: ``ping`` gets ``{}``, the rest
        "method not found" (this client offers no capabilities). Notifications are skipped."""
        for item in payload if isinstance(payload, list) else [payload]:
            if not isinstance(item, dict) or not isinstance(item.get("method"), str):
                continue
            rid = item.get("id")
            if rid is None or isinstance(rid, bool) or not isinstance(rid, str | int):
                continue  # a notification
            name = item["method"]
            answer: dict[str, Any] = {"jsonrpc": "2.0", "id": rid}
            if name == "ping":
                answer["result"] = {}
            else:
                answer["error"] = {"code": -32601, "message": "Method not found"}
            log.debug("MCP: answering the server's %s request", sanitize_server_text(name, 60))
            await self._post(answer, expect_id=None, method="a reply to the server")

    def _pick(self, payload: Any, expect_id: int, method: str) -> dict[str, Any]:
        reply = self._match(payload, expect_id)
        if reply is None:
            raise McpProtocolError(
                f"The MCP server at {self._where} sent no JSON-RPC response for {method}."
            )
        return reply

    @staticmethod
    def _match(payload: Any, expect_id: int) -> dict[str, Any] | None:
        """The JSON-RPC response with our id in a message or batch, else None."""
        items = payload if isinstance(payload, list) else [payload]
        for item in items:
            if (
                isinstance(item, dict)
                and item.get("id") == expect_id
                and not isinstance(item.get("id"), bool)
                and ("result" in item or "error" in item)
                and "method" not in item
            ):
                return item
        return None


async def _events(resp: httpx.Response, parser: SseParser) -> AsyncIterator[SseEvent]:
    async for chunk in resp.aiter_bytes():
        for event in parser.feed(chunk):
            yield event
    for event in parser.close():
        yield event


class _SessionExpired(Exception):
    """404 for a request carrying a session id: start a new session (Streamable HTTP)."""


def _describe(challenge: BearerChallenge | None) -> str:
    if challenge is None:
        return ""
    parts = [p for p in (challenge.error, challenge.error_description) if p]
    return ": ".join(parts)


def _network_error(exc: httpx.HTTPError, where: str) -> NetworkError:
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"Timed out talking to the MCP server at {where}.")
    return NetworkError(f"Could not talk to the MCP server at {where} ({type(exc).__name__}).")
