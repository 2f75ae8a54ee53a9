"""Between the protocol eras: a legacy client with a 2026-07-28 server, and the reverse.

Same-era traffic is forwarded as it is; a 2026-07-28 request (its ``params._meta`` names the
protocol version) gets the HTTP headers that revision requires (``MCP-Protocol-Version``,
``Mcp-Method``, ``Mcp-Name``, ``Mcp-Param-*`` from the tool schemas seen in ``tools/list``).

* Legacy client, modern server (``to_modern``): the client's ``initialize`` is answered
  from ``server/discover`` (the client keeps the legacy revision it asked for); every later
  request gets ``_meta`` with the version, the client's capabilities and its identity from
  that ``initialize``; ``notifications/initialized``, ``ping`` and ``logging/setLevel`` are
  handled here (2026-07-28 has none of them; the log level goes into each request's ``_meta``); notifications are not sent (the 2026 HTTP wire has none: a cancellation
  closes the request's stream). A result asking for input (``input_required``) is put to
  the client as server-to-client requests (:mod:`.inputs`); one still asking after the
  last round becomes an error saying so.
* Modern client, legacy server (``to_legacy``): the bridge opens a legacy session itself
  (``initialize`` with the client's identity and capabilities from ``_meta``) and answers
  ``server/discover`` from it; the protocol keys are taken out of each request's ``_meta``.

Which one applies is found out once per bridge: ``--upstream-era auto`` tries the client's
own era first and switches when the server's answer says it speaks only the other (a legacy
server refuses ``server/discover`` with HTTP 400/404 or JSON-RPC -32601; a modern-only
server refuses ``initialize``), or is pinned with ``legacy`` / ``modern``.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp_auth_desktop.core.mcp.era import (
    LATEST_LEGACY,
    LATEST_MODERN,
    LEGACY_VERSIONS,
    MODERN_VERSIONS,
)
from mcp_auth_desktop.core.mcp.headers import (
    HeaderParam,
    InvalidToolHeaders,
    header_params,
    request_headers,
)

__all__ = [
    "EraTranslator",
    "modern_version",
    "META_VERSION",
    "META_CAPS",
    "META_INFO",
    "META_SERVER_INFO",
    "UPSTREAM_ERAS",
]

log = logging.getLogger(__name__)

META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
META_INFO = "io.modelcontextprotocol/clientInfo"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
_PROTOCOL_KEYS = (META_VERSION, META_CAPS, META_INFO)
UPSTREAM_ERAS = ("auto", "legacy", "modern")
_BRIDGE_INFO = {"name": "mcp-auth-bridge", "version": "1"}
#: Results that carry ttlMs and cacheScope in 2026-07-28 (CacheableResult in the schema).
_CACHEABLE = frozenset(
    {"tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read"}
)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _meta(message: Any) -> dict[str, Any] | None:
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta if isinstance(meta, dict) else None


def modern_version(message: Any) -> str | None:
    """The 2026-era protocol version a message declares in ``params._meta``, if any."""
    meta = _meta(message)
    version = meta.get(META_VERSION) if meta is not None else None
    return version if isinstance(version, str) else None


class EraTranslator:
    """Per-bridge era state; see the module docstring."""

    def __init__(self, upstream_era: str = "auto") -> None:
        if upstream_era not in UPSTREAM_ERAS:
            raise ValueError(f"upstream era must be one of {UPSTREAM_ERAS}")
        self.upstream_era = upstream_era
        #: "same", "to_modern" (legacy client, modern server) or "to_legacy" (the reverse).
        self.mode = "same"
        self._tools: dict[str, list[HeaderParam]] = {}
        self._client_caps: dict[str, Any] = {}
        self._client_info: dict[str, Any] = dict(_BRIDGE_INFO)
        self.modern_version = LATEST_MODERN
        #: From a legacy client's logging/setLevel: 2026 asks for logs per request instead.
        self.log_level: str | None = None

    # ------------------------------------------------------------ headers

    def headers(self, message: Any) -> dict[str, str]:
        """The 2026-07-28 request headers for an outgoing modern request (else none)."""
        version = modern_version(message)
        if version is None or not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return {}
        params = _obj(message.get("params"))
        name = params.get("name") if message["method"] == "tools/call" else None
        annotated = self._tools.get(name) if isinstance(name, str) else None
        try:
            return request_headers(message["method"], params, version, annotated)
        except (InvalidToolHeaders, TypeError, ValueError) as exc:
            log.info("no 2026 headers for %s: %s", message["method"], exc)
            return {"MCP-Protocol-Version": version, "Mcp-Method": message["method"]}

    def knows_tool(self, name: object) -> bool:
        return isinstance(name, str) and name in self._tools

    def learn(self, method: str, reply: dict[str, Any]) -> None:
        """Remember the ``x-mcp-header`` parameters of the tools a server lists."""
        result = reply.get("result")
        if method != "tools/list" or not isinstance(result, dict) or not isinstance(result.get("tools"), list):
            return
        for tool in result["tools"]:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                try:
                    self._tools[tool["name"]] = header_params(tool.get("inputSchema"))
                except InvalidToolHeaders:
                    self._tools.pop(tool["name"], None)

    # ---------------------------------------------------- legacy client side

    def remember_initialize(self, message: dict[str, Any]) -> None:
        params = _obj(message.get("params"))
        caps, info = params.get("capabilities"), params.get("clientInfo")
        self._client_caps = caps if isinstance(caps, dict) else {}
        self._client_info = info if isinstance(info, dict) else dict(_BRIDGE_INFO)

    def discover_request(self, request_id: Any) -> dict[str, Any]:
        """The ``server/discover`` probe sent on behalf of a legacy client."""
        return self.to_modern_request(
            {"jsonrpc": "2.0", "id": request_id, "method": "server/discover", "params": {}}
        )

    def to_modern_request(self, message: dict[str, Any]) -> dict[str, Any]:
        params = dict(_obj(message.get("params")))
        meta = dict(_obj(params.get("_meta")))
        meta[META_VERSION] = self.modern_version
        meta[META_CAPS] = self._client_caps
        meta[META_INFO] = self._client_info
        if self.log_level is not None:
            meta.setdefault(META_LOG_LEVEL, self.log_level)
        params["_meta"] = meta
        return {**message, "params": params}

    def answer_locally(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Legacy requests 2026-07-28 dropped, answered here for a legacy client (to_modern):
        ``ping``, and ``logging/setLevel`` (its level then goes into each request's ``_meta``)."""
        method = message.get("method")
        if method == "ping":
            return {"jsonrpc": "2.0", "id": message.get("id"), "result": {}}
        if method == "logging/setLevel":
            level = _obj(message.get("params")).get("level")
            if isinstance(level, str):
                self.log_level = level
                return {"jsonrpc": "2.0", "id": message.get("id"), "result": {}}
        return None

    def initialize_from_discover(self, request: dict[str, Any], discover: dict[str, Any]) -> dict[str, Any]:
        """The client's ``initialize`` answered from a ``server/discover`` result."""
        result = _obj(discover.get("result"))
        supported = [v for v in result.get("supportedVersions") or [] if v in MODERN_VERSIONS]
        if supported:
            self.modern_version = supported[0]
        meta = _obj(result.get("_meta"))
        info = meta.get(META_SERVER_INFO) or result.get("serverInfo")
        params = _obj(request.get("params"))
        asked = params.get("protocolVersion")
        answer: dict[str, Any] = {
            "protocolVersion": asked if asked in LEGACY_VERSIONS else LATEST_LEGACY,
            "capabilities": _obj(result.get("capabilities")),
            "serverInfo": info if isinstance(info, dict) else {"name": "unknown", "version": ""},
        }
        if isinstance(result.get("instructions"), str):
            answer["instructions"] = result["instructions"]
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": answer}

    @staticmethod
    def to_legacy_reply(reply: dict[str, Any]) -> dict[str, Any] | str:
        """A modern reply for a legacy client; a sentence when it cannot be relayed."""
        result = reply.get("result")
        if not isinstance(result, dict):
            return reply
        kind = result.get("resultType", "complete")
        if kind != "complete":
            return (
                f"The server answered with a {kind!r} result (it asks the client for input), which "
                "a client of an older MCP revision cannot receive through the bridge."
            )
        clean = {k: v for k, v in result.items() if k not in ("resultType", "ttlMs", "cacheScope")}
        return {**reply, "result": clean}

    # ---------------------------------------------------- modern client side

    def remember_modern(self, message: dict[str, Any]) -> None:
        meta = _meta(message) or {}
        if isinstance(meta.get(META_CAPS), dict):
            self._client_caps = meta[META_CAPS]
        if isinstance(meta.get(META_INFO), dict):
            self._client_info = meta[META_INFO]
        if isinstance(meta.get(META_VERSION), str):
            self.modern_version = meta[META_VERSION]

    def initialize_request(self, request_id: Any) -> dict[str, Any]:
        """The legacy ``initialize`` the bridge sends for a modern client."""
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "initialize",
            "params": {
                "protocolVersion": LATEST_LEGACY,
                "capabilities": self._client_caps,
                "clientInfo": self._client_info,
            },
        }

    @staticmethod
    def to_legacy_request(message: dict[str, Any]) -> dict[str, Any]:
        """A modern request without the protocol keys in ``_meta`` (a legacy session has them)."""
        params = message.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("_meta"), dict):
            return message
        meta = {k: v for k, v in params["_meta"].items() if k not in _PROTOCOL_KEYS}
        clean = {k: v for k, v in params.items() if k != "_meta"}
        if meta:
            clean["_meta"] = meta
        return {**message, "params": clean}

    def discover_from_initialize(self, request: dict[str, Any], init: dict[str, Any]) -> dict[str, Any]:
        """The client's ``server/discover`` answered from a legacy ``initialize`` result."""
        result = _obj(init.get("result"))
        answer: dict[str, Any] = {
            "supportedVersions": [self.modern_version if self.modern_version in MODERN_VERSIONS else LATEST_MODERN],
            "capabilities": _obj(result.get("capabilities")),
            "resultType": "complete",
            "ttlMs": 0,
            "cacheScope": "private",
        }
        if isinstance(result.get("serverInfo"), dict):
            answer["_meta"] = {META_SERVER_INFO: result["serverInfo"]}
            answer["serverInfo"] = result["serverInfo"]
        if isinstance(result.get("instructions"), str):
            answer["instructions"] = result["instructions"]
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": answer}

    @staticmethod
    def to_modern_reply(method: str, reply: dict[str, Any]) -> dict[str, Any]:
        """A legacy result for a modern client: ``resultType``, and the caching fields the
        2026-07-28 schema requires on list and read results (0 ms, private: never cached)."""
        result = reply.get("result")
        if not isinstance(result, dict):
            return reply
        extra: dict[str, Any] = {"resultType": "complete"}
        if method in _CACHEABLE:
            extra.update({"ttlMs": 0, "cacheScope": "private"})
        return {**reply, "result": {**extra, **result}}
