"""What the app remembers per server about its MCP protocol, and one call that uses it.

Kept in the server's non-secret status (``server_status[id]["mcp_protocol"]`` in
the settings document, readable by the CLI, the GUI and a bridge; the whole status
is :class:`~mcp_auth_desktop.core.server_status.ServerStatus`):

* ``era``: the :class:`~.era.ProtocolEra` that worked, so the next call makes
  no probe (the client probes again on its own when it stops working);
* ``description``: what ``server/discover`` or ``initialize`` returned last
  (server name, version, capabilities, instructions), for display.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import McpProtocolError
from .era import ProtocolEra, ServerDescription

__all__ = ["STATUS_KEY", "McpMemory", "call", "ProtocolAware"]

STATUS_KEY = "mcp_protocol"


class ProtocolAware(Protocol):
    """The parts of :class:`~.client.McpClient` this module uses (test doubles may lack era/description)."""

    async def connect(self) -> Any: ...

    async def initialize(self) -> Any: ...

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class McpMemory:
    """The era that worked last and what the server said about itself (a value: a call
    that learns something hands over a new one)."""

    era: ProtocolEra | None = None
    description: ServerDescription | None = None

    @classmethod
    def from_json(cls, raw: object) -> McpMemory:
        """From the settings document; junk (a hand edit, an unknown revision) is forgotten."""
        if not isinstance(raw, dict):
            return cls()
        return cls(ProtocolEra.from_dict(raw.get("era")),
                   ServerDescription.from_dict(raw.get("description")))

    def to_json(self) -> dict[str, Any] | None:
        """The stored entry, or None when nothing is known (no entry)."""
        if self.era is None:
            return None
        entry: dict[str, Any] = {"era": self.era.to_dict()}
        if self.description is not None:
            entry["description"] = self.description.to_dict()
        return entry


async def call(
    client: ProtocolAware,
    method: str,
    params: dict[str, Any] | None,
    remembered: McpMemory,
    learned: Callable[[McpMemory], Awaitable[None]],
) -> Any:
    """Connect (remembered era or probe), send one request, hand over what was learned.

    ``initialize`` asked for by name is the legacy handshake itself. ``learned`` is
    awaited with the new memory only when it differs from ``remembered``.
    """
    if method == "initialize":
        handshake = getattr(client, "legacy_handshake", None) or client.initialize
        try:
            result = await handshake()
        except McpProtocolError:
            # A 2026-07-28 server refused it and the probe learned its era: keep that.
            await _remember(client, remembered, learned)
            raise
    else:
        await client.connect()
        result = await client.request(method, params)
    await _remember(client, remembered, learned)
    return result


async def _remember(
    client: ProtocolAware, remembered: McpMemory, learned: Callable[[McpMemory], Awaitable[None]]
) -> None:
    era = getattr(client, "era", None)
    description = getattr(client, "description", None)
    if not isinstance(era, ProtocolEra):
        return
    if not isinstance(description, ServerDescription):
        # A remembered era made no probe: keep the last answer (of that era only).
        description = remembered.description if remembered.era == era else None
    new = McpMemory(era, description)
    if new != remembered:
        await learned(new)
