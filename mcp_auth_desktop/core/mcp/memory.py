"""What the app remembers per server about its MCP protocol, and one call that uses it.

Kept in the server's non-secret status (``server_status[id]["mcp_protocol"]`` in
the settings document, readable by the CLI, the GUI and a bridge):

* ``era``: the :class:`~.era.ProtocolEra` that worked, so the next call makes
  no probe (the client probes again on its own when it stops working);
* ``description``: what ``server/discover`` or ``initialize`` returned last
  (server name, version, capabilities, instructions), for display.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Protocol

from ..errors import McpProtocolError
from .era import ProtocolEra, ServerDescription

__all__ = ["STATUS_KEY", "remembered_era", "remembered_description", "call", "ProtocolAware"]

STATUS_KEY = "mcp_protocol"


class ProtocolAware(Protocol):
    """The parts of :class:`~.client.McpClient` this module uses (test doubles may lack era/description)."""

    async def connect(self) -> Any: ...

    async def initialize(self) -> Any: ...

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


def _entry(status: Mapping[str, Any]) -> Mapping[str, Any]:
    entry = status.get(STATUS_KEY)
    return entry if isinstance(entry, dict) else {}


def remembered_era(status: Mapping[str, Any]) -> ProtocolEra | None:
    return ProtocolEra.from_dict(_entry(status).get("era"))


def remembered_description(status: Mapping[str, Any]) -> ServerDescription | None:
    return ServerDescription.from_dict(_entry(status).get("description"))


async def call(
    client: ProtocolAware,
    method: str,
    params: dict[str, Any] | None,
    status: MutableMapping[str, Any],
    save: Callable[..., Awaitable[None]],
) -> Any:
    """Connect (remembered era or probe), send one request, remember what was learned.

    ``initialize`` asked for by name is the legacy handshake itself. ``status`` is
    the server's in-memory status (updated here); ``save(**fields)`` persists changed fields.
    """
    if method == "initialize":
        handshake = getattr(client, "legacy_handshake", None) or client.initialize
        try:
            result = await handshake()
        except McpProtocolError:
            # A 2026-07-28 server refused it and the probe learned its era: keep that.
            await _remember(client, status, save)
            raise
    else:
        await client.connect()
        result = await client.request(method, params)
    await _remember(client, status, save)
    return result


async def _remember(
    client: ProtocolAware, status: MutableMapping[str, Any], save: Callable[..., Awaitable[None]]
) -> None:
    era = getattr(client, "era", None)
    description = getattr(client, "description", None)
    if isinstance(era, ProtocolEra):
        old = _entry(status)
        entry: dict[str, Any] = {"era": era.to_dict()}
        if isinstance(description, ServerDescription):
            entry["description"] = description.to_dict()
        elif old.get("description") is not None and remembered_era(status) == era:
            entry["description"] = old["description"]  # a remembered era made no probe: keep the last answer
        if remembered_era(status) != era or entry.get("description") != old.get("description"):
            status[STATUS_KEY] = entry
            await save(**{STATUS_KEY: entry})
