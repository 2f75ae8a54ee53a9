"""Per-app MCP state that is not OAuth state: the requestState key,
listeners of subscriptions/listen streams, and what handshake-era sessions wait on."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from mock_server.mcp.hub import Hub
from mock_server.mcp.state_codec import StateCodec
from mock_server.mcp.tasks import TaskStore


@dataclass
class SessionLink:
    """What a handshake-era session needs beyond McpSession: answers the server waits for,
    its log level, resource subscriptions, and events kept for Last-Event-ID resumption."""

    pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    log_level: str | None = None
    capabilities: dict[str, Any] = field(default_factory=dict)
    subscriptions: set[str] = field(default_factory=set)
    replay: dict[str, asyncio.Task[dict[str, Any]]] = field(default_factory=dict)
    """stream id -> the final message of a stream the server closed on purpose, for GET resumption."""


class McpRuntime:
    def __init__(self) -> None:
        self.codec = StateCodec()
        self.hub = Hub()
        self.tasks = TaskStore()
        self.links: dict[str, SessionLink] = {}
        self._ids = itertools.count(1)

    def next_id(self, prefix: str = "s") -> str:
        return f"{prefix}{next(self._ids)}"

    def link(self, session_id: str) -> SessionLink:
        if session_id not in self.links:
            if len(self.links) > 10_000:
                self.links.pop(next(iter(self.links)))
            self.links[session_id] = SessionLink()
        return self.links[session_id]
