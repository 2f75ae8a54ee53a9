"""Per-app MCP state that is not OAuth state: the tool catalogue, the requestState key,
listeners of subscriptions/listen streams, and what handshake-era sessions wait on."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from mock_server.mcp.context import StateCodec
from mock_server.mcp.registry import McpTool, build_tools

MAX_LISTENERS = 256


@dataclass
class Listener:
    filter: dict[str, Any]
    queue: asyncio.Queue[dict[str, Any]]
    subscription_id: Any


class Hub:
    """Fan-out of change notifications to open subscriptions/listen streams (2026-07-28)
    and to handshake-era sessions subscribed to resources."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []

    def add(self, listener: Listener) -> bool:
        if len(self.listeners) >= MAX_LISTENERS:
            return False
        self.listeners.append(listener)
        return True

    def remove(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    async def publish(self, flag: str, method: str, params: dict[str, Any] | None = None) -> int:
        """Send ``method`` to every listener whose filter sets ``flag``; returns how many got it."""
        sent = 0
        for listener in list(self.listeners):
            if listener.filter.get(flag) is True:
                listener.queue.put_nowait({"method": method, "params": dict(params or {})})
                sent += 1
        return sent


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
        self.tools: dict[str, McpTool] = build_tools()
        self.codec = StateCodec()
        self.hub = Hub()
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
