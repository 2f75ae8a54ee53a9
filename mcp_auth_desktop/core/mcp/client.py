"""One MCP client for both protocol eras, over Streamable HTTP.

:meth:`McpClient.connect` finds out what the server speaks (see :mod:`.era`):

* with a remembered :class:`~.era.ProtocolEra` it makes no probe: a modern
  server is sent requests straight away, a legacy one gets ``initialize``; when
  that assumption fails (a modern request refused as a legacy server refuses
  it, or ``initialize`` refused), it probes again and retries once;
* otherwise it sends ``server/discover`` (2026-07-28) and falls back to
  ``initialize`` (2025-11-25, or whatever older revision the server answers
  with) when the answer is not a modern one.

Afterwards :attr:`McpClient.era` holds the result, to be stored per server, and
:attr:`McpClient.description` what the server said about itself.

Modern requests (:mod:`.stateless`) carry ``_meta`` and the request headers,
echo ``requestState`` and answer ``input_required`` results; legacy requests
(:mod:`.legacy`) carry the session id and the negotiated version. Refusals of
the token (401, 403) are the same typed errors in both eras, so the token
manager's refresh, sign-in and step-up apply unchanged.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import httpx

from ..errors import (
    McpAuthError,
    McpProtocolError,
    NetworkError,
    ResourceAccessError,
    UnsupportedProtocolVersionError,
)
from ..urls import redact_url
from .era import (
    LATEST_LEGACY,
    LEGACY_VERSIONS,
    MODERN_ERROR_CODES,
    MODERN_VERSIONS,
    Era,
    ProtocolEra,
    ServerDescription,
    modern_error_code,
)
from .inputs import ElicitationHandler, InputResponder
from .legacy import LegacySession
from .stateless import StatelessSession, TokenProvider
from .transport import HttpRejected, Transport

__all__ = ["McpClient", "MAX_MESSAGE_BYTES", "DEFAULT_PROTOCOL_VERSION", "CLIENT_INFO"]

log = logging.getLogger("mcp_auth_desktop.core.mcp_client")

DEFAULT_PROTOCOL_VERSION = LATEST_LEGACY
#: Cap on one JSON body or one SSE event.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_MAX_LIST_PAGES = 50
CLIENT_INFO: dict[str, Any] = {"name": "mcp-auth-desktop", "version": "0.1.0"}


class _LegacySignal(Exception):
    """The probe's answer is not a modern one: fall back to ``initialize``."""


class McpClient:
    """JSON-RPC over Streamable HTTP to one MCP endpoint, in whichever era the server speaks."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        token_provider: TokenProvider | None = None,
        protocol_version: str = DEFAULT_PROTOCOL_VERSION,
        era: ProtocolEra | None = None,
        client_info: dict[str, Any] | None = None,
        elicitation: ElicitationHandler | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        request_timeout: float = 120.0,
    ) -> None:
        where = redact_url(url)
        self._where = where
        self._transport = Transport(
            http,
            url,
            where,
            token_provider=token_provider,
            max_message_bytes=max_message_bytes,
            request_timeout=request_timeout,
        )
        inputs = InputResponder(elicitation)
        info = client_info or CLIENT_INFO
        ids = itertools.count(1)  # one id sequence for the whole client, both eras
        self._legacy = LegacySession(self._transport, inputs, info, protocol_version, ids)
        self._modern = StatelessSession(self._transport, inputs, info, ids)
        #: The era in use: given (remembered) or found by connect(); None before.
        self.era: ProtocolEra | None = era
        self._hinted = era is not None
        self._active: Era | None = None
        #: What the server said about itself (server/discover or initialize), once known.
        self.description: ServerDescription | None = None

    # -- legacy-compatible surface ------------------------------------------------

    @property
    def session_id(self) -> str | None:
        return self._legacy.session_id

    @property
    def protocol_version(self) -> str | None:
        """The revision in use; None before connect()/initialize()."""
        if self._active is Era.MODERN:
            return self._modern.version
        return self._legacy.protocol_version

    # -- connecting ---------------------------------------------------------------

    async def connect(self) -> ServerDescription | None:
        """Settle the era; see the module docstring. Returns the description when one was fetched."""
        if self._active is not None:
            return self.description
        if self.era is not None and self.era.is_modern:
            self._use_modern(self.era.version)
            return None  # no probe: the next request is the first round trip
        if self.era is not None:
            try:
                await self.initialize()
                return self.description
            except (HttpRejected, McpProtocolError) as exc:
                log.info("MCP: %s no longer accepts initialize (%s); probing again", self._where, exc)
        return await self.detect()

    async def detect(self) -> ServerDescription:
        """Probe with ``server/discover``; fall back to ``initialize``. No remembered era is used."""
        self._active = None
        try:
            return await self._probe()
        except _LegacySignal as signal:
            log.info("MCP: %s is not a 2026-07-28 server (%s); using initialize", self._where, signal)
        try:
            await self.initialize()
        except HttpRejected as exc:
            raise McpProtocolError(
                f"The MCP server at {self._where} refused both server/discover and initialize "
                f"(HTTP {exc.status})."
            ) from None
        assert self.description is not None
        return self.description

    async def _probe(self) -> ServerDescription:
        for version in MODERN_VERSIONS:
            self._modern.version = version
            try:
                result = await self._modern.request("server/discover", None)
            except HttpRejected as exc:
                if modern_error_code(exc.body) is None:
                    raise _LegacySignal(f"HTTP {exc.status}") from None
                raise self._modern.rejected("server/discover", exc) from None
            except UnsupportedProtocolVersionError as exc:
                if any(v in LEGACY_VERSIONS for v in exc.supported):
                    raise _LegacySignal("it supports only legacy revisions") from None
                raise
            except McpProtocolError as exc:
                if exc.code in MODERN_ERROR_CODES:
                    raise
                # Anything else identifies a legacy server (versioning, "Backward Compatibility").
                raise _LegacySignal(f"JSON-RPC error {exc.code}" if exc.code is not None else "no modern answer") from None
            supported = result.get("supportedVersions") if isinstance(result, dict) else None
            if not isinstance(result, dict) or not isinstance(supported, list):
                # A DiscoverResult must list supportedVersions; some legacy servers answer
                # any unknown method with an empty result.
                raise _LegacySignal("its answer to server/discover is not a DiscoverResult")
            common = [v for v in MODERN_VERSIONS if v in supported]
            if not common:
                if any(v in LEGACY_VERSIONS for v in supported):
                    raise _LegacySignal("it supports only legacy revisions")
                raise UnsupportedProtocolVersionError(
                    f"The MCP server at {self._where} supports none of the protocol revisions this app "
                    f"speaks ({', '.join(MODERN_VERSIONS + LEGACY_VERSIONS)}).",
                    supported=tuple(v for v in supported if isinstance(v, str)),
                )
            self._use_modern(common[0])
            self.description = ServerDescription.from_result(Era.MODERN, self._modern.version, result)
            return self.description
        raise _LegacySignal("no modern revision in common")  # pragma: no cover (MODERN_VERSIONS is not empty)

    def _use_modern(self, version: str) -> None:
        self._modern.version = version
        self._active = Era.MODERN
        if self.era is None or self.era.era is not Era.MODERN or self.era.version != version:
            self.era = ProtocolEra.modern(version)

    async def initialize(self) -> dict[str, Any]:
        """The legacy handshake: ``initialize`` then ``notifications/initialized``."""
        result = await self._legacy.initialize()
        self._active = Era.LEGACY
        version = self._legacy.protocol_version or LATEST_LEGACY
        if self.era is None or self.era.era is not Era.LEGACY or self.era.version != version:
            self.era = ProtocolEra.legacy(version) if version in LEGACY_VERSIONS else ProtocolEra(Era.LEGACY, version)
        self.description = ServerDescription.from_result(Era.LEGACY, version, result)
        return result

    async def legacy_handshake(self) -> dict[str, Any]:
        """``initialize`` asked for by name (``mcp-auth call NAME initialize``).

        A server that speaks only 2026-07-28 has no handshake and refuses it; rather than
        that bare refusal, the probe finds out why and the error says what to send instead.
        The era found stays in :attr:`era` / :attr:`description` to be remembered.
        """
        try:
            return await self.initialize()
        except HttpRejected as exc:
            refused: McpProtocolError = self._legacy.rejected("initialize", exc)
        except McpProtocolError as exc:
            refused = exc
        try:
            await self._probe()
        except _LegacySignal:
            raise refused from None
        raise McpProtocolError(
            f"The MCP server at {self._where} speaks MCP {self._modern.version}, which has no initialize "
            "handshake (the protocol is stateless); it refused initialize. Send server/discover "
            "instead: its answer holds what initialize returned (server name, version, capabilities, "
            "instructions).",
            code=refused.code,
        )

    async def describe(self) -> ServerDescription:
        """What the server says about itself; fetched when not known yet (one round trip)."""
        if self.description is not None:
            return self.description
        await self.connect()
        if self.description is None:  # modern from a remembered era: ask now
            result = await self._modern.request("server/discover", None)
            self.description = ServerDescription.from_result(
                Era.MODERN, self._modern.version, result if isinstance(result, dict) else {}
            )
        return self.description

    # -- requests -----------------------------------------------------------------

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send one request in the era in use and return its ``result``.

        Before :meth:`connect` (or :meth:`initialize`) the message goes out bare, as
        JSON-RPC with no session and no ``_meta``, for callers that manage the
        handshake themselves.
        """
        if method == "initialize":
            return await self.initialize()
        if self._active is Era.MODERN:
            try:
                return await self._modern.request(method, params)
            except HttpRejected as exc:
                if modern_error_code(exc.body) is not None or not self._hinted:
                    raise self._modern.rejected(method, exc) from None
                # A remembered modern era that no longer holds: probe again, once.
                log.info("MCP: %s refused a 2026-07-28 request; probing again", self._where)
                self._hinted = False
                await self.detect()
                return await self.request(method, params)
        try:
            return await self._legacy.request(method, params)
        except HttpRejected as exc:
            raise self._legacy.rejected(method, exc) from None

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self._legacy.notify(method, params)

    async def list_tools(self) -> list[dict[str, Any]]:
        """All tools, following ``nextCursor`` (bounded). 2026 tools with invalid header annotations are left out."""
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
        if self._active is Era.MODERN and not self._modern.knows_tool(name):
            await self.list_tools()  # the tool's inputSchema says which arguments go in headers
        result = await self.request("tools/call", {"name": name, "arguments": arguments or {}})
        if not isinstance(result, dict):
            raise McpProtocolError(f"The MCP server at {self._where} sent a malformed tool result.")
        return result

    async def aclose(self) -> None:
        """End a legacy session (``DELETE``) if the server issued one; errors are ignored."""
        try:
            await self._legacy.close()
        except (httpx.HTTPError, ResourceAccessError, NetworkError, McpAuthError) as exc:
            log.debug("ending the MCP session at %s failed: %s", self._where, type(exc).__name__)

    async def __aenter__(self) -> McpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @staticmethod
    def _match(payload: Any, expect_id: int) -> dict[str, Any] | None:
        from .answers import match_response

        return match_response(payload, expect_id)
