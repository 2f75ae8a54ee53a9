"""The MCP client in both eras against scripted servers (ASGI): detection, fallback, memory,
2026-07-28 request shape, headers, request state and result types."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcp_auth_desktop.core.errors import (
    InputRequiredError,
    InsufficientScopeError,
    InvalidTokenError,
    McpProtocolError,
    UnsupportedProtocolVersionError,
)
from mcp_auth_desktop.core.mcp import (
    Era,
    McpClient,
    ProtocolEra,
    ServerDescription,
    accept_defaults,
)

URL = "http://mcp.test/mcp"
MODERN = "2026-07-28"
PV = "io.modelcontextprotocol/protocolVersion"
CAPS = "io.modelcontextprotocol/clientCapabilities"
INFO = "io.modelcontextprotocol/clientInfo"

TOOLS = [
    {
        "name": "weather",
        "inputSchema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"r": {"type": "string"}},
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "limit": {"type": "integer", "x-mcp-header": "Limit"},
                "opts": {"type": "object", "properties": {"deep": {"type": "boolean", "x-mcp-header": "Deep"}}},
                "query": {"$ref": "https://schemas.example/never-fetched.json"},
            },
        },
    },
    {"name": "bad", "inputSchema": {"type": "object", "properties": {"n": {"type": "number", "x-mcp-header": "N"}}}},
    {"name": "form", "inputSchema": {"type": "object"}},
]


@dataclass
class Modern:
    """A 2026-07-28 server (or, with ``legacy=True``, a 2025-11-25 one that refuses everything modern)."""

    legacy: bool = False
    reject_first_version: bool = False
    token: str | None = None
    with_invalid_tool: bool = False
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        msg = json.loads(await request.body())
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.seen.append({"headers": headers, "message": msg})
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        method = msg.get("method")
        rid = msg.get("id")
        if self.legacy:
            return self._legacy(msg, headers)
        meta = (msg.get("params") or {}).get("_meta") or {}
        if headers.get("mcp-protocol-version") != meta.get(PV) or headers.get("mcp-method") != method:
            return JSONResponse({"jsonrpc": "2.0", "id": rid, "error": {"code": -32020, "message": "mismatch"}}, 400)
        if self.reject_first_version:
            self.reject_first_version = False
            err = {"code": -32022, "message": "Unsupported", "data": {"supported": [MODERN], "requested": MODERN}}
            return JSONResponse({"jsonrpc": "2.0", "id": rid, "error": err}, 400)
        result: dict[str, Any]
        params = msg.get("params") or {}
        if method == "server/discover":
            result = {
                "supportedVersions": [MODERN],
                "capabilities": {"tools": {"listChanged": True}},
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "9.1"}},
                "instructions": "Use \x1b[31mweather\x1b[0m wisely.",
            }
        elif method == "tools/list":
            tools = TOOLS if self.with_invalid_tool else [t for t in TOOLS if t["name"] != "bad"]
            result = {"tools": tools, "ttlMs": 0, "cacheScope": "private"}
        elif method == "tools/call" and params.get("name") == "form":
            if "requestState" not in params:
                result = {
                    "resultType": "input_required",
                    "inputRequests": {
                        "who": {
                            "method": "elicitation/create",
                            "params": {
                                "message": "Name?",
                                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string", "default": "Ada"}}},
                            },
                        }
                    },
                    "requestState": "opaque+/=state",
                }
            else:
                result = {"content": [{"type": "text", "text": json.dumps(params["inputResponses"])}]}
        elif method == "tools/call" and params.get("name") == "sample":
            result = {"resultType": "input_required", "inputRequests": {"s": {"method": "sampling/createMessage", "params": {}}}}
        elif method == "tools/call" and params.get("name") == "odd":
            result = {"resultType": "task_created"}
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": "ok"}]}
        else:
            return JSONResponse({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no"}}, 404)
        return JSONResponse({"jsonrpc": "2.0", "id": rid, "result": {"resultType": "complete", **result}})

    def _legacy(self, msg: dict[str, Any], headers: dict[str, str]) -> Response:
        method, rid = msg.get("method"), msg.get("id")
        if method == "initialize":
            result = {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "old", "version": "1.0"},
                "instructions": "legacy",
            }
            return JSONResponse({"jsonrpc": "2.0", "id": rid, "result": result}, headers={"Mcp-Session-Id": "s1"})
        if headers.get("mcp-session-id") != "s1":
            return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": "Server not initialized"}}, 400)
        if rid is None:
            return Response(status_code=202)
        return JSONResponse({"jsonrpc": "2.0", "id": rid, "result": {"tools": TOOLS[:1]}})


def client_for(server: Modern, **kw: Any) -> tuple[httpx.AsyncClient, McpClient]:
    app = Starlette(routes=[Route("/mcp", server.endpoint, methods=["POST"])])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    return http, McpClient(http, URL, **kw)


def methods(server: Modern) -> list[str]:
    return [s["message"].get("method") for s in server.seen]


async def test_a_modern_server_is_probed_with_server_discover_and_described() -> None:
    server = Modern()
    http, client = client_for(server)
    async with http:
        desc = await client.connect()
    assert methods(server) == ["server/discover"]
    probe = server.seen[0]
    assert "initialize" not in methods(server)
    meta = probe["message"]["params"]["_meta"]
    assert meta[PV] == MODERN and meta[CAPS] == {} and meta[INFO]["name"] == "mcp-auth-desktop"
    assert probe["headers"]["mcp-protocol-version"] == MODERN and probe["headers"]["mcp-method"] == "server/discover"
    assert "mcp-session-id" not in probe["headers"]
    assert client.era is not None and client.era.era is Era.MODERN and client.era.version == MODERN
    assert desc == ServerDescription(
        era=Era.MODERN,
        protocol_version=MODERN,
        name="modern",
        version="9.1",
        instructions="Use \x1b[31mweather\x1b[0m wisely.",  # raw: escaping is the display's job
        capabilities={"tools": {"listChanged": True}},
        supported_versions=(MODERN,),
    )


async def test_tools_list_drops_invalid_header_annotations_and_keeps_schemas_unaltered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Modern(with_invalid_tool=True)
    http, client = client_for(server)
    async with http:
        await client.connect()
        tools = await client.list_tools()
        with pytest.raises(McpProtocolError, match="invalid header parameters"):
            await client.call_tool("bad", {"n": 1.5})
    assert [t["name"] for t in tools] == ["weather", "form"]
    assert tools[0] == TOOLS[0]  # unaltered: $schema, $defs and the network $ref untouched
    assert "tools/call" not in methods(server)
    assert any("leaving out tool bad" in r.getMessage() and "'number'" in r.getMessage() for r in caplog.records)


async def test_tools_call_carries_name_and_param_headers_encoded() -> None:
    server = Modern()
    http, client = client_for(server)
    async with http:
        await client.connect()
        await client.call_tool("weather", {"region": " Zürich", "limit": 3, "opts": {"deep": False}, "query": "q"})
    assert methods(server) == ["server/discover", "tools/list", "tools/call"]  # listed first: the schema names the headers
    h = server.seen[-1]["headers"]
    assert h["mcp-name"] == "weather" and h["mcp-method"] == "tools/call"
    assert h["mcp-param-region"] == "=?base64?" + base64.b64encode(" Zürich".encode()).decode() + "?="
    assert h["mcp-param-limit"] == "3" and h["mcp-param-deep"] == "false"
    assert not any(k.startswith("mcp-param-q") for k in h)


async def test_a_legacy_server_gets_initialize_after_the_probe() -> None:
    server = Modern(legacy=True)
    http, client = client_for(server)
    async with http:
        desc = await client.connect()
        tools = await client.list_tools()
        await client.aclose()
    assert methods(server)[:3] == ["server/discover", "initialize", "notifications/initialized"]
    assert [t["name"] for t in tools] == ["weather"]
    assert client.era is not None and client.era.era is Era.LEGACY and client.era.version == "2025-11-25"
    assert desc is not None and (desc.name, desc.version, desc.instructions) == ("old", "1.0", "legacy")
    later = server.seen[3]
    assert later["headers"]["mcp-session-id"] == "s1" and "_meta" not in (later["message"].get("params") or {})


async def test_a_remembered_era_makes_no_probe() -> None:
    modern, legacy = Modern(), Modern(legacy=True)
    http, client = client_for(modern, era=ProtocolEra.modern())
    async with http:
        await client.connect()
        await client.list_tools()
    assert methods(modern) == ["tools/list"]
    http, client = client_for(legacy, era=ProtocolEra.legacy())
    async with http:
        await client.connect()
        await client.list_tools()
    assert methods(legacy)[:2] == ["initialize", "notifications/initialized"]
    assert "server/discover" not in methods(legacy)


async def test_a_remembered_modern_era_that_fails_is_probed_again() -> None:
    server = Modern(legacy=True)
    http, client = client_for(server, era=ProtocolEra.modern())
    async with http:
        await client.connect()
        tools = await client.list_tools()
    assert methods(server)[:4] == ["tools/list", "server/discover", "initialize", "notifications/initialized"]
    assert [t["name"] for t in tools] == ["weather"]
    assert client.era is not None and client.era.era is Era.LEGACY


async def test_unsupported_version_is_retried_once_with_a_supported_one() -> None:
    server = Modern(reject_first_version=True)
    http, client = client_for(server)
    async with http:
        await client.connect()
    assert methods(server) == ["server/discover", "server/discover"]
    assert server.seen[0]["message"]["id"] != server.seen[1]["message"]["id"]


async def test_input_required_is_answered_and_the_state_echoed() -> None:
    server = Modern()
    http, client = client_for(server)
    async with http:
        await client.connect()
        declined = await client.call_tool("form", {})
    first, retry = server.seen[-2], server.seen[-1]
    assert first["message"]["id"] != retry["message"]["id"]
    assert retry["message"]["params"]["requestState"] == "opaque+/=state"
    assert retry["message"]["params"]["inputResponses"] == {"who": {"action": "decline"}}
    assert json.loads(declined["content"][0]["text"]) == {"who": {"action": "decline"}}
    http, client = client_for(Modern(), elicitation=accept_defaults)
    async with http:
        await client.connect()
        accepted = await client.call_tool("form", {})
    assert json.loads(accepted["content"][0]["text"]) == {"who": {"action": "accept", "content": {"name": "Ada"}}}


async def test_input_this_client_cannot_give_and_unknown_result_types_are_refused() -> None:
    server = Modern()
    http, client = client_for(server)
    async with http:
        await client.connect()
        with pytest.raises(InputRequiredError, match="sampling/createMessage"):
            await client.call_tool("sample", {})
        with pytest.raises(McpProtocolError, match="unknown type 'task_created'"):
            await client.call_tool("odd", {})


async def test_auth_refusals_are_the_same_typed_errors_in_the_modern_era() -> None:
    server = Modern(token="right")
    http, client = client_for(server)
    async with http:
        with pytest.raises(InvalidTokenError):
            await client.connect()

    async def step_up(request: Request) -> Response:
        return Response(status_code=403, headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="a b"'})

    app = Starlette(routes=[Route("/mcp", step_up, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http2:
        with pytest.raises(InsufficientScopeError) as info:
            await McpClient(http2, URL, era=ProtocolEra.modern()).request("tools/list")
    assert info.value.scopes == ("a", "b")


async def test_no_common_version_is_a_typed_error() -> None:
    async def only_future(request: Request) -> Response:
        msg = json.loads(await request.body())
        result = {"resultType": "complete", "supportedVersions": ["2099-01-01"], "capabilities": {}}
        return JSONResponse({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    app = Starlette(routes=[Route("/mcp", only_future, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        with pytest.raises(UnsupportedProtocolVersionError) as info:
            await McpClient(http, URL).connect()
    assert info.value.supported == ("2099-01-01",)


def test_protocol_era_round_trips_and_refuses_junk() -> None:
    era = ProtocolEra.modern()
    assert ProtocolEra.from_dict(era.to_dict()) == era
    assert ProtocolEra.from_dict({"version": "2025-06-18"}) == ProtocolEra(Era.LEGACY, "2025-06-18", 0.0)
    for junk in (None, [], {"version": "1999-01-01"}, {"version": 5}, "modern"):
        assert ProtocolEra.from_dict(junk) is None
    desc = ServerDescription(Era.LEGACY, "2025-11-25", name="n", capabilities={"tools": {}})
    assert ServerDescription.from_dict(desc.to_dict()) == desc
