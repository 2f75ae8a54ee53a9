"""Small shared test helpers for the core tests (resolvers, clocks, guards)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.urls import UrlGuard


async def public_resolver(host: str, port: int) -> Sequence[str]:
    """Every name is a public address (tests never touch real DNS)."""
    if host in ("localhost",):
        return ["127.0.0.1"]
    return ["93.184.216.34"]


def guard(server: str = "https://mcp.example.com/mcp", **opts: Any) -> UrlGuard:
    return UrlGuard.for_server(server, ServerOptions(**opts), resolver=public_resolver)


@dataclass
class FakeClock:
    now: float = 1_700_000_000.0
    mono: float = 1000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono
