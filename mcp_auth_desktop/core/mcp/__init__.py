"""The MCP client: both protocol eras over Streamable HTTP (see :mod:`.client`)."""

from __future__ import annotations

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

__all__ = [
    "McpClient",
    "ProtocolEra",
    "Era",
    "ServerDescription",
    "ElicitationHandler",
    "accept_defaults",
    "decline",
    "SseEvent",
    "SseParser",
    "CLIENT_INFO",
    "DEFAULT_PROTOCOL_VERSION",
    "MAX_MESSAGE_BYTES",
    "MODERN_VERSIONS",
    "LEGACY_VERSIONS",
    "LATEST_MODERN",
    "LATEST_LEGACY",
]
