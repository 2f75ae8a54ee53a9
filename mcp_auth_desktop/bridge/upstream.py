"""The remote side of the bridge: JSON-RPC messages over Streamable HTTP.

Every message from the local client is one ``POST``; the server answers
``202`` (notifications and responses), one JSON body, or an event stream that
may carry notifications and requests of its own before the response. All of
them are handed back to the caller, who writes them to the client. A stream
that ends before the response is resumed with ``GET`` and ``Last-Event-ID``
(bounded); the session's own ``GET`` stream (server-initiated messages) is
:meth:`Upstream.listen`.

Tokens come from a :class:`TokenSource` for every request; a 401 asks it for
a fresh token once and retries. Refusals are typed (core/errors/), by the
app client's own rule (core/mcp/answers.token_refusal): 401 after the retry →
InvalidTokenError, 403 ``insufficient_scope`` → InsufficientScopeError, a dead
connection → NetworkError, any other status
without a JSON-RPC answer → McpProtocolError naming the status.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any, Protocol

import httpx

from mcp_auth_desktop.core import errors, jsonutil
from mcp_auth_desktop.core.errors import sanitize_server_text
from mcp_auth_desktop.core.http import USER_AGENT, network_error
from mcp_auth_desktop.core.mcp.answers import media_type, read_capped, token_refusal
from mcp_auth_desktop.core.mcp_client import MAX_MESSAGE_BYTES, SseParser
from mcp_auth_desktop.core.urls import redact_url
from mcp_auth_desktop.core.www_authenticate import bearer_challenge

__all__ = ["Upstream", "TokenSource", "SessionExpired", "ServerAnswered", "make_upstream_http"]

log = logging.getLogger(__name__)

_ACCEPT = "application/json, text/event-stream"
_MAX_RESUMES = 5
_DEFAULT_RETRY = 1.0
_MAX_RETRY = 10.0

Message = dict[str, Any]
#: Extra headers for one outgoing message (the 2026-07-28 era adds Mcp-Method / Mcp-Name).
HeaderHook = Callable[[Any], Mapping[str, str]]


class TokenSource(Protocol):
    async def token(self) -> str: ...

    async def after_rejection(self, rejected: str) -> str: ...


class SessionExpired(Exception):
    """404 to a request carrying our session id: the server forgot the session."""


def make_upstream_http() -> httpx.AsyncClient:
    """The bridge's own client: no read timeout, since an event stream may idle for
    minutes between events; each request is bounded by the session instead."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(connect=10.0, read=None, write=30.0, pool=30.0),
        trust_env=True,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16, keepalive_expiry=30.0),
        headers={"User-Agent": USER_AGENT},
    )


def _messages(payload: Any) -> list[Message]:
    items = payload if isinstance(payload, list) else [payload]
    return [m for m in items if isinstance(m, dict)]


class Upstream:
    """One remote MCP endpoint, its session id and negotiated protocol version."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        tokens: TokenSource,
        *,
        header_hook: HeaderHook | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self._http = http
        self.url = url
        self.where = redact_url(url)
        self._tokens = tokens
        self._hook = header_hook
        self._max = max_message_bytes
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        #: False once the server said it offers no GET stream (405).
        self.get_stream_supported = True

    # ------------------------------------------------------------------ sending

    async def send(self, message: Any, *, expect_id: Any = None) -> AsyncGenerator[Message, None]:
        """POST ``message``; yield every JSON-RPC message the server sends back.

        With ``expect_id`` (a request), an event stream that closes before the
        response is resumed; the iteration ends after the response.
        """
        body = jsonutil.dumps(message).encode("utf-8")
        extra = dict(self._hook(message)) if self._hook is not None else {}
        is_initialize = isinstance(message, dict) and message.get("method") == "initialize"
        token = await self._tokens.token()
        for attempt in (1, 2):
            headers = self._headers(token, extra)
            if is_initialize:
                headers.pop("Mcp-Session-Id", None)
                headers.pop("MCP-Protocol-Version", None)
            try:
                async with self._http.stream("POST", self.url, content=body, headers=headers) as resp:
                    if resp.status_code == 401 and attempt == 1:
                        log.info("the server refused the access token; refreshing once")
                        token = await self._tokens.after_rejection(token)
                        continue
                    await self._check(resp, message, expect_id)
                    if is_initialize:
                        sid = resp.headers.get("mcp-session-id")
                        if sid and sid.isascii() and sid.isprintable() and len(sid) <= 1024:
                            self.session_id = sid
                    if resp.status_code == 202 or expect_id is None:
                        return
                    kind = media_type(resp)
                    if kind == "text/event-stream":
                        parser = SseParser(self._max)
                        answered = False
                        async for item in self._events(resp, parser):
                            yield item
                            if _answers(item, expect_id):
                                answered = True
                                break
                        if not answered:
                            async for item in self._resume(parser, expect_id):
                                yield item
                        return
                    if kind == "application/json" or kind.endswith("+json"):
                        for item in _messages(self._parse(await self._read(resp))):
                            yield item
                        return
                    raise errors.McpProtocolError(
                        f"The MCP server at {self.where} answered with an unexpected content "
                        f"type ({sanitize_server_text(kind or 'none', 60)})."
                    )
            except httpx.HTTPError as exc:
                raise network_error(exc, self.url) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def listen(self) -> AsyncIterator[Message]:
        """The session's GET stream (server-initiated messages), reconnected with
        ``Last-Event-ID`` while the server keeps it up; ends on 405 or after
        repeated failures."""
        parser = SseParser(self._max)
        failures = 0
        while self.get_stream_supported and failures < _MAX_RESUMES:
            headers = self._headers(await self._tokens.token(), {})
            headers.pop("Content-Type", None)
            headers["Accept"] = "text/event-stream"
            if parser.last_event_id:
                headers["Last-Event-ID"] = parser.last_event_id
            try:
                async with self._http.stream("GET", self.url, headers=headers) as resp:
                    if resp.status_code == 405:
                        self.get_stream_supported = False
                        return
                    if resp.status_code != 200 or media_type(resp) != "text/event-stream":
                        failures += 1
                        log.info("GET stream refused (HTTP %s)", resp.status_code)
                    else:
                        failures = 0
                        async for item in self._events(resp, parser):
                            yield item
            except httpx.HTTPError as exc:
                failures += 1
                log.info("GET stream dropped (%s)", type(exc).__name__)
            parser.close()
            await asyncio.sleep(self._retry_delay(parser) * max(1, failures))

    async def end_session(self) -> None:
        """DELETE the session, if there is one; best effort, bounded."""
        sid, self.session_id = self.session_id, None
        if sid is None:
            return
        try:
            headers = self._headers(await self._tokens.token(), {})
            headers["Mcp-Session-Id"] = sid
            async with asyncio.timeout(3.0):
                await self._http.delete(self.url, headers=headers)
        except (httpx.HTTPError, TimeoutError, errors.ResourceAccessError, errors.NetworkError) as exc:
            log.debug("ending the session failed: %s", type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - shutting down; a token problem is not news here
            log.debug("ending the session failed: %s", type(exc).__name__)

    # ---------------------------------------------------------------- internals

    def _headers(self, token: str, extra: Mapping[str, str]) -> dict[str, str]:
        headers = {"Accept": _ACCEPT, "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        headers.update(extra)
        return headers

    async def _check(self, resp: httpx.Response, message: Any, expect_id: Any) -> None:
        status = resp.status_code
        if 200 <= status < 300:
            return
        challenge = bearer_challenge(resp.headers.get_list("www-authenticate"))
        # The step-up's advice is the bridge's own (BridgeTokens.step_up), so none here.
        refusal = token_refusal(status, challenge, self.where, after_refresh=True, advice=False)
        if refusal is not None:
            raise refusal
        if status == 404 and self.session_id is not None and not _is_initialize(message):
            raise SessionExpired()
        # A JSON-RPC error for this request in the body (e.g. 400 "Unsupported version")
        # is the server's own answer: pass it through rather than hiding it.
        if expect_id is not None and media_type(resp) in ("application/json",):
            try:
                payload = self._parse(await self._read(resp))
            except (errors.McpProtocolError, errors.ResponseTooLargeError):
                payload = None
            for item in _messages(payload):
                if item.get("id") == expect_id and "error" in item:
                    raise ServerAnswered(item)
        raise errors.McpProtocolError(f"The MCP server at {self.where} answered HTTP {status}.")

    async def _read(self, resp: httpx.Response) -> bytes:
        return await read_capped(resp, self._max, self.where, "message")

    def _parse(self, raw: bytes) -> Any:
        try:
            return jsonutil.loads(raw)
        except errors.InvalidJsonError:
            raise errors.McpProtocolError(f"The MCP server at {self.where} sent invalid JSON.") from None

    async def _events(self, resp: httpx.Response, parser: SseParser) -> AsyncIterator[Message]:
        async for chunk in resp.aiter_bytes():
            for event in parser.feed(chunk):
                if event.event != "message" or not event.data.strip():
                    continue
                for item in _messages(self._parse(event.data.encode("utf-8"))):
                    yield item
        parser.close()

    def _retry_delay(self, parser: SseParser) -> float:
        delay = parser.retry_ms / 1000 if parser.retry_ms is not None else _DEFAULT_RETRY
        return min(delay, _MAX_RETRY)

    async def _resume(self, parser: SseParser, expect_id: Any) -> AsyncIterator[Message]:
        """Resume a POST's event stream with GET + Last-Event-ID until the response comes."""
        for _ in range(_MAX_RESUMES):
            last = parser.last_event_id
            if last is None:
                break
            await asyncio.sleep(self._retry_delay(parser))
            headers = self._headers(await self._tokens.token(), {})
            headers.pop("Content-Type", None)
            headers["Accept"] = "text/event-stream"
            headers["Last-Event-ID"] = last
            log.info("resuming the event stream after event %s", sanitize_server_text(last, 40))
            async with self._http.stream("GET", self.url, headers=headers) as again:
                if again.status_code != 200 or media_type(again) != "text/event-stream":
                    break
                async for item in self._events(again, parser):
                    yield item
                    if _answers(item, expect_id):
                        return
        raise errors.McpProtocolError(
            f"The MCP server at {self.where} closed the event stream without answering."
        )


class ServerAnswered(Exception):
    """The server refused with an HTTP error status but a proper JSON-RPC error body."""

    def __init__(self, message: Message) -> None:
        super().__init__("server answered with an error")
        self.message = message


def _is_initialize(message: Any) -> bool:
    return isinstance(message, dict) and message.get("method") == "initialize"


def _answers(item: Message, expect_id: Any) -> bool:
    return (
        expect_id is not None
        and "method" not in item
        and ("result" in item or "error" in item)
        and item.get("id") == expect_id
        and type(item.get("id")) is type(expect_id)
    )

