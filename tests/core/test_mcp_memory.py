"""What the manager remembers per server about its MCP protocol (core/mcp/memory.py)."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from mcp_auth_desktop.core.mcp import Era, McpClient, memory
from mcp_auth_desktop.core.mcp.display import description_fields
from mcp_auth_desktop.core.mcp.memory import McpMemory
from tests.core.test_mcp_eras import URL, Modern, methods


class Saved:
    """Stands in for the manager: keeps what each call learned, as the settings would."""

    def __init__(self, remembered: McpMemory | None = None) -> None:
        self.memory = remembered or McpMemory()
        self.calls: list[McpMemory] = []

    async def __call__(self, learned: McpMemory) -> None:
        self.calls.append(learned)
        self.memory = learned


async def _call(server: Modern, save: Saved, method: str = "tools/list") -> Any:
    app = Starlette(routes=[Route("/mcp", server.endpoint, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = McpClient(http, URL, era=save.memory.era)
        try:
            return await memory.call(client, method, None, save.memory, save)
        finally:
            await client.aclose()


async def test_the_era_is_remembered_and_the_next_call_makes_no_probe() -> None:
    server, save = Modern(), Saved()
    await _call(server, save)
    assert methods(server) == ["server/discover", "tools/list"]
    era = save.memory.era
    desc = save.memory.description
    assert era is not None and era.era is Era.MODERN
    assert desc is not None and desc.name == "modern"
    assert save.calls == [save.memory]
    assert save.memory.to_json() == {"era": era.to_dict(), "description": desc.to_dict()}

    await _call(server, save)
    assert methods(server) == ["server/discover", "tools/list", "tools/list"]  # no second probe
    assert len(save.calls) == 1  # nothing new learned, nothing written
    assert save.memory.description == desc  # kept though this call fetched none


async def test_a_server_that_changed_era_is_probed_again_and_remembered_anew() -> None:
    save = Saved()
    await _call(Modern(), save)
    downgraded = Modern(legacy=True)
    await _call(downgraded, save)
    assert methods(downgraded)[:4] == ["tools/list", "server/discover", "initialize", "notifications/initialized"]
    era = save.memory.era
    assert era is not None and era.era is Era.LEGACY and era.version == "2025-11-25"
    desc = save.memory.description
    assert desc is not None and desc.name == "old"
    assert len(save.calls) == 2


async def test_junk_in_the_settings_is_ignored() -> None:
    junk = McpMemory.from_json({"era": {"version": "1900-01-01"}, "description": "x"})
    assert junk.era is None and junk.description is None
    server = Modern()
    await _call(server, Saved(junk))
    assert methods(server)[0] == "server/discover"


def test_description_fields_are_terminal_safe() -> None:
    from mcp_auth_desktop.core.mcp import ServerDescription

    desc = ServerDescription(
        Era.MODERN,
        "2026-07-28",
        name="evil\x1b]8;;file:///etc\x07name",
        version="1\n2",
        instructions="line one\r\nline two \x1b[2J",
        capabilities={"tools": {"listChanged": True}, "resources": {}},
    )
    fields = dict(description_fields(desc))
    assert fields["Protocol"] == "MCP 2026-07-28 (stateless, server/discover)"
    assert fields["Capabilities"] == "tools (listChanged), resources"
    for text in fields.values():
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
    assert "line one" in fields["Instructions"] and "line two" in fields["Instructions"]
