"""Fan-out of change notifications to open subscriptions/listen streams (2026-07-28)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

MAX_LISTENERS = 256


@dataclass
class Listener:
    filter: dict[str, Any]
    queue: asyncio.Queue[dict[str, Any]]
    subscription_id: Any


class Hub:
    """Listeners and what they asked to hear."""

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
