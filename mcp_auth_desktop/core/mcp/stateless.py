"""The 2026-07-28 protocol: every request stands alone (SEP-2575).

Each request carries ``_meta`` with ``io.modelcontextprotocol/protocolVersion``,
``io.modelcontextprotocol/clientCapabilities`` and ``io.modelcontextprotocol/clientInfo``,
and the headers of :mod:`.headers`. On top of one exchange:

* ``UnsupportedProtocolVersion`` (-32022): retry once with a version from the
  error's ``supported`` list that this client speaks (versioning, "Protocol
  Version Negotiation"), else :class:`~..errors.UnsupportedProtocolVersionError`;
* ``HeaderMismatch`` (-32020) on ``tools/call``: list the tools again (the
  schema may have changed) and retry once (Streamable HTTP, "Client Behavior");
* ``resultType``: absent or ``complete`` is the result; ``input_required``
  (SEP-2322) is answered by :class:`~.inputs.InputResponder` and the request
  retried with a new id, the original params, ``inputResponses`` and exactly the
  ``requestState`` the server sent (nothing when it sent none), bounded; any
  other value is refused (basic/index: an unrecognised resultType is invalid);
* ``tools/list``: tools whose ``x-mcp-header`` annotations are invalid are left
  out (logged), and the valid ones' header parameters remembered for calls.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import McpProtocolError, UnsupportedProtocolVersionError, sanitize_server_text
from .era import (
    HEADER_MISMATCH,
    MODERN_VERSIONS,
    UNSUPPORTED_PROTOCOL_VERSION,
    supported_versions_from_error,
)
from .headers import HeaderParam, InvalidToolHeaders, header_params, request_headers
from .inputs import InputResponder
from .legacy import rpc_error
from .transport import HttpRejected, Transport

__all__ = ["StatelessSession", "TokenProvider", "MRTR_METHODS", "MAX_INPUT_ROUNDS"]

log = logging.getLogger("mcp_auth_desktop.core.mcp_client")

TokenProvider = Callable[[], Awaitable[str | None]]
#: Requests a server may answer with ``input_required`` (mrtr, "Supported Requests").
MRTR_METHODS = frozenset({"tools/call", "prompts/get", "resources/read"})
MAX_INPUT_ROUNDS = 8
_META_VERSION = "io.modelcontextprotocol/protocolVersion"
_META_CAPS = "io.modelcontextprotocol/clientCapabilities"
_META_INFO = "io.modelcontextprotocol/clientInfo"


class _Retry(Exception):
    """Internal: send the request again (new version, or refreshed tool schemas)."""


class StatelessSession:
    def __init__(
        self,
        transport: Transport,
        inputs: InputResponder,
        client_info: dict[str, Any],
        ids: itertools.count[int],
    ) -> None:
        self._t = transport
        self._inputs = inputs
        self._client_info = client_info
        self._ids = ids
        self.version = MODERN_VERSIONS[0]
        #: Header parameters per tool name, from the last tools/list; invalid tools map to the reason.
        self._tools: dict[str, list[HeaderParam] | str] = {}

    def knows_tool(self, name: str) -> bool:
        return name in self._tools

    def message(self, request_id: int, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        body = dict(params or {})
        meta = dict(body.get("_meta") or {}) if isinstance(body.get("_meta"), dict) else {}
        meta[_META_VERSION] = self.version
        meta[_META_CAPS] = self._inputs.capabilities
        meta[_META_INFO] = self._client_info
        body["_meta"] = meta
        return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": body}

    async def request(self, method: str, params: dict[str, Any] | None) -> Any:
        current = dict(params or {})
        retried_version = retried_headers = False
        rounds = 0
        while True:
            try:
                result = await self._once(method, current, retried_version, retried_headers)
            except _Retry as why:
                if str(why) == "version":
                    retried_version = True
                else:
                    retried_headers = True
                continue
            kind = result.get("resultType", "complete") if isinstance(result, dict) else "complete"
            if kind == "complete":
                return self._after(method, result)
            if kind != "input_required" or method not in MRTR_METHODS:
                raise McpProtocolError(
                    f"The MCP server at {self._t.where} answered {method} with a result of unknown "
                    f"type {sanitize_server_text(kind, 40)!r}."
                )
            rounds += 1
            if rounds > MAX_INPUT_ROUNDS:
                raise McpProtocolError(
                    f"The MCP server at {self._t.where} still asked for input after {MAX_INPUT_ROUNDS} rounds of {method}."
                )
            current = await self._next_round(params or {}, result)

    async def _next_round(self, original: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        """The retry's params: the original ones, plus the answers and the state, exactly as sent."""
        if "inputRequests" not in result and "requestState" not in result:
            raise McpProtocolError(
                f"The MCP server at {self._t.where} asked for input without saying what it needs."
            )
        retry = {k: v for k, v in original.items() if k not in ("inputResponses", "requestState")}
        if "inputRequests" in result:
            retry["inputResponses"] = await self._inputs.input_responses(result["inputRequests"], self._t.where)
        if "requestState" in result:
            state = result["requestState"]
            if not isinstance(state, str):
                raise McpProtocolError(f"The MCP server at {self._t.where} sent a requestState that is not a string.")
            retry["requestState"] = state  # opaque: echoed unread and unchanged
        return retry

    async def _once(self, method: str, params: dict[str, Any], retried_version: bool, retried_headers: bool) -> Any:
        annotated = None
        if method == "tools/call":
            name = params.get("name")
            entry = self._tools.get(name) if isinstance(name, str) else None
            if isinstance(entry, str):
                raise McpProtocolError(
                    f"The MCP server at {self._t.where} defines tool {sanitize_server_text(params['name'], 80)!r} "
                    f"with invalid header parameters ({sanitize_server_text(entry, 160)}); it cannot be called."
                )
            annotated = entry
        request_id = next(self._ids)
        message = self.message(request_id, method, params)
        headers = request_headers(method, params, self.version, annotated)
        try:
            reply = await self._t.post(message, headers, expect_id=request_id, method=method)
        except HttpRejected as exc:
            err = exc.body.get("error") if isinstance(exc.body, dict) else None
            if isinstance(err, dict):
                await self._maybe_retry(method, err, exc.body, retried_version, retried_headers)
            raise
        if reply is None:
            raise McpProtocolError(f"The MCP server at {self._t.where} sent no reply to {method}.")
        if "error" in reply:
            await self._maybe_retry(method, reply["error"], reply, retried_version, retried_headers)
            raise self._error(method, reply, None)
        return reply.get("result")

    async def _maybe_retry(
        self, method: str, err: object, body: object, retried_version: bool, retried_headers: bool
    ) -> None:
        code = err.get("code") if isinstance(err, dict) else None
        if code == UNSUPPORTED_PROTOCOL_VERSION:
            supported = supported_versions_from_error(body)
            ours = [v for v in MODERN_VERSIONS if v in supported]
            if ours and not retried_version:
                self.version = ours[0]
                raise _Retry("version")
            raise UnsupportedProtocolVersionError(
                f"The MCP server at {self._t.where} does not speak protocol revision {self.version}"
                + (f"; it supports {', '.join(sanitize_server_text(v, 20) for v in supported[:8])}" if supported else "")
                + ".",
                supported=supported,
                code=UNSUPPORTED_PROTOCOL_VERSION,
            )
        if code == HEADER_MISMATCH and method == "tools/call" and not retried_headers:
            log.info("MCP: %s reported a header mismatch; listing tools again", self._t.where)
            self._tools.clear()
            await self.request("tools/list", None)
            raise _Retry("headers")

    def _error(self, method: str, body: object, status: int | None) -> McpProtocolError:
        err = body.get("error") if isinstance(body, dict) else None
        return rpc_error(self._t.where, method, err, status)

    def rejected(self, method: str, exc: HttpRejected) -> McpProtocolError:
        """The typed error for a 4xx answer to a modern request."""
        return self._error(method, exc.body, exc.status)

    def _after(self, method: str, result: Any) -> Any:
        """tools/list: leave out invalid tool definitions, remember header parameters."""
        if method != "tools/list" or not isinstance(result, dict) or not isinstance(result.get("tools"), list):
            return result
        kept: list[Any] = []
        for tool in result["tools"]:
            name = tool.get("name") if isinstance(tool, dict) else None
            if not isinstance(name, str):
                kept.append(tool)
                continue
            try:
                self._tools[name] = header_params(tool.get("inputSchema"))
                kept.append(tool)
            except InvalidToolHeaders as exc:
                self._tools[name] = str(exc)
                log.warning(
                    "MCP: leaving out tool %s of %s: %s",
                    sanitize_server_text(name, 80),
                    self._t.where,
                    sanitize_server_text(str(exc), 200),
                )
        return {**result, "tools": kept}
