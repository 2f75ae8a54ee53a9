"""The MCP client, kept importable under its old name; it lives in :mod:`.mcp`.

``SseParser`` here keeps its old default cap (one event up to 4 MiB).
"""

from __future__ import annotations

from .mcp import (
    DEFAULT_PROTOCOL_VERSION,
    MAX_MESSAGE_BYTES,
    McpClient,
    ProtocolEra,
    ServerDescription,
    SseEvent,
)
from .mcp import SseParser as _SseParser

__all__ = [
    "McpClient",
    "ProtocolEra",
    "ServerDescription",
    "SseEvent",
    "SseParser",
    "DEFAULT_PROTOCOL_VERSION",
    "MAX_MESSAGE_BYTES",
]


class SseParser(_SseParser):
    def __init__(self, max_event_bytes: int = MAX_MESSAGE_BYTES) -> None:
        super().__init__(max_event_bytes)
