"""The MCP client: both protocol eras over Streamable HTTP (see :mod:`.client`).

Names are imported on first use, so ``core.mcp.era`` and ``core.mcp.memory``
(what the manager and the views need at start) stay cheap to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import CLIENT_INFO, DEFAULT_PROTOCOL_VERSION, MAX_MESSAGE_BYTES, McpClient
    from .era import (
        LATEST_LEGACY,
        LATEST_MODERN,
        LEGACY_VERSIONS,
        MODERN_VERSIONS,
        Era,
        ProtocolEra,
        ServerDescription,
    )
    from .inputs import ElicitationHandler, accept_defaults, decline
    from .sse import SseEvent, SseParser

_WHERE = {
    "McpClient": ".client",
    "CLIENT_INFO": ".client",
    "DEFAULT_PROTOCOL_VERSION": ".client",
    "MAX_MESSAGE_BYTES": ".client",
    "ProtocolEra": ".era",
    "Era": ".era",
    "ServerDescription": ".era",
    "MODERN_VERSIONS": ".era",
    "LEGACY_VERSIONS": ".era",
    "LATEST_MODERN": ".era",
    "LATEST_LEGACY": ".era",
    "ElicitationHandler": ".inputs",
    "accept_defaults": ".inputs",
    "decline": ".inputs",
    "SseEvent": ".sse",
    "SseParser": ".sse",
}

__all__ = [
    "McpClient",
    "CLIENT_INFO",
    "DEFAULT_PROTOCOL_VERSION",
    "MAX_MESSAGE_BYTES",
    "ProtocolEra",
    "Era",
    "ServerDescription",
    "MODERN_VERSIONS",
    "LEGACY_VERSIONS",
    "LATEST_MODERN",
    "LATEST_LEGACY",
    "ElicitationHandler",
    "accept_defaults",
    "decline",
    "SseEvent",
    "SseParser",
]
assert set(__all__) == set(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(where, __name__), name)
