"""Security-relevant settings are authenticated by the vault (issue 15 #7).

``settings.json`` is plain JSON that anything running as the user can edit. The
parts of a server entry that decide where secrets go (the URL, the client id and
its authentication method, the per-server options such as
``allow_insecure_loopback``, ``allow_private_network`` and ``resource_override``)
and the discovered endpoints are also kept in the encrypted, authenticated vault
(entry ``settings-seal:<server id>``) whenever the app writes them. When the
settings are read, values that differ from the vault's copy are refused: the
vault's values are used and the user is told which server and which part was
changed outside the app. A server the vault has no copy of yet (settings written
before this check existed) is sealed as it is on first read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .models import Discovery, ServerConfig
from .ports import SecretVault

__all__ = ["apply", "drop", "seal_discovery", "seal_server", "seal_name"]

_SERVER_FIELDS = ("url", "client_id", "client_auth_method", "options")


def seal_name(server_id: str) -> str:
    return f"settings-seal:{server_id}"


def _normal(value: Any) -> Any:
    """The value as the vault will give it back (JSON round trip: tuples become lists)."""
    return json.loads(json.dumps(value, sort_keys=True))


def _server_part(config: ServerConfig) -> dict[str, Any]:
    d = config.to_dict()
    part: dict[str, Any] = _normal({k: d.get(k) for k in _SERVER_FIELDS})
    return part


async def seal_server(vault: SecretVault, config: ServerConfig) -> None:
    entry = dict(await vault.get(seal_name(config.id)) or {})
    entry["server"] = _server_part(config)
    await vault.put(seal_name(config.id), entry)


async def seal_discovery(vault: SecretVault, server_id: str, discovery: Discovery) -> None:
    entry = dict(await vault.get(seal_name(server_id)) or {})
    entry["discovery"] = _normal(discovery.to_dict())
    await vault.put(seal_name(server_id), entry)


async def drop(vault: SecretVault, server_id: str) -> None:
    await vault.delete(seal_name(server_id))


def _refused(name: str, what: str) -> str:
    return (
        f"settings.json was changed outside MCP Auth Desktop for {name} ({what}); those "
        "changes were refused and the values the app saved (kept in the encrypted vault) are "
        "used. Change server settings in the app or with mcp-auth."
    )


async def apply(
    servers: list[ServerConfig],
    discovery: dict[str, Discovery],
    vault: SecretVault,
    on_refused: Callable[[str, str], None],
) -> list[ServerConfig]:
    """The servers (and, in place, their discovery) with the vault's values where they differ."""
    out: list[ServerConfig] = []
    for config in servers:
        sealed = await vault.get(seal_name(config.id))
        if sealed is None or "server" not in sealed:
            await seal_server(vault, config)  # first read since this check exists
            if config.id in discovery:
                await seal_discovery(vault, config.id, discovery[config.id])
            out.append(config)
            continue
        if _server_part(config) != sealed["server"]:
            on_refused(config.id, _refused(config.name, "URL, client or security options"))
            config = ServerConfig.from_dict({**config.to_dict(), **sealed["server"]})
        found = discovery.get(config.id)
        kept = sealed.get("discovery")
        if isinstance(kept, dict):
            if found is None or _normal(found.to_dict()) != kept:
                on_refused(config.id, _refused(config.name, "discovered endpoints"))
                discovery[config.id] = Discovery.from_dict(kept)
        elif found is not None:
            await seal_discovery(vault, config.id, found)
        out.append(config)
    return out
