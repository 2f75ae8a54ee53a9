"""/mcp Streamable HTTP rules: media types, SSE, sessions, protocol version, Origin and Host."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.mock.helpers import BASE_URL, MCP_HEADERS, asgi_client, make_app, mcp_initialize

MCP = BASE_URL + "/mcp"


@pytest.fixture
async def env() -> Any:
    app, state = make_app()
    async with asgi_client(app) as http:
        token = state.mint_access_token(scope="mcp:write")
        yield state, http, token
    state.close()


def rpc(method: str, id_: int | None = 1, **params: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if id_ is not None:
        msg["id"] = id_
    if params:
        msg["params"] = params
    return msg


def sse_data(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    assert len(lines) == 1
    data: dict[str, Any] = json.loads(lines[0])
    return data


async def test_json_and_sse_replies_follow_accept_and_the_knob(env: Any) -> None:
    state, http, token = env
    headers = await mcp_initialize(http, MCP, token)
    as_json = await http.post(MCP, headers=headers, json=rpc("ping"))
    assert as_json.headers["content-type"].startswith("application/json") and as_json.json()["result"] == {}
    only_sse = await http.post(MCP, headers={**headers, "Accept": "text/event-stream"}, json=rpc("tools/list"))
    assert {t["name"] for t in sse_data(only_sse)["result"]["tools"]} >= {"echo", "write_note"}
    state.knobs.sse_responses = True
    both = await http.post(MCP, headers=headers, json=rpc("tools/call", name="echo", arguments={"text": "sse"}))
    assert sse_data(both)["result"]["content"][0]["text"] == "sse"
    neither = await http.post(MCP, headers={**headers, "Accept": "text/html"}, json=rpc("ping"))
    assert neither.status_code == 406


async def test_sessions_are_required_bound_and_deletable(env: Any) -> None:
    state, http, token = env
    headers = await mcp_initialize(http, MCP, token)
    no_session = {k: v for k, v in headers.items() if k != "Mcp-Session-Id"}
    assert (await http.post(MCP, headers=no_session, json=rpc("ping"))).status_code == 400
    assert (await http.post(MCP, headers={**headers, "Mcp-Session-Id": "nope"}, json=rpc("ping"))).status_code == 404
    # Another user's token cannot ride on this session handle.
    other = state.mint_access_token(subject="mallory")
    stolen = await http.post(MCP, headers={**headers, "Authorization": f"Bearer {other}"}, json=rpc("ping"))
    assert stolen.status_code == 404
    assert (await http.delete(MCP, headers=headers)).status_code == 204
    assert (await http.post(MCP, headers=headers, json=rpc("ping"))).status_code == 404


async def test_protocol_version_header_is_checked(env: Any) -> None:
    state, http, token = env
    headers = await mcp_initialize(http, MCP, token)
    assert (await http.post(MCP, headers={**headers, "MCP-Protocol-Version": "1999-01-01"}, json=rpc("ping"))).status_code == 400
    assert (await http.post(MCP, headers={**headers, "MCP-Protocol-Version": "2025-03-26"}, json=rpc("ping"))).status_code == 400
    absent = {k: v for k, v in headers.items() if k != "MCP-Protocol-Version"}
    assert (await http.post(MCP, headers=absent, json=rpc("ping"))).status_code == 200
    init = await http.post(MCP, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"},
                           json=rpc("initialize", protocolVersion="2099-01-01", capabilities={}, clientInfo={"name": "x", "version": "1"}))
    assert init.json()["result"]["protocolVersion"] == "2025-11-25"


async def test_jsonrpc_shapes(env: Any) -> None:
    state, http, token = env
    headers = await mcp_initialize(http, MCP, token)
    assert (await http.post(MCP, headers=headers, json=[rpc("ping")])).status_code == 400
    assert (await http.post(MCP, headers=headers, content=b"{not json")).json()["error"]["code"] == -32700
    assert (await http.post(MCP, headers=headers, json=rpc("notifications/progress", id_=None))).status_code == 202
    assert (await http.post(MCP, headers=headers, json={"jsonrpc": "2.0", "id": 5, "result": {}})).status_code == 202
    # resources/list is served since the conformance fixtures; an unknown method is still -32601.
    unknown = await http.post(MCP, headers=headers, json=rpc("nonexistent/method"))
    assert unknown.json()["error"]["code"] == -32601
    bad_tool = await http.post(MCP, headers=headers, json=rpc("tools/call", name="nope"))
    assert bad_tool.json()["error"]["code"] == -32602
    bad_args = await http.post(MCP, headers=headers, json=rpc("tools/call", name="echo", arguments={"text": 5}))
    assert bad_args.json()["error"]["code"] == -32602
    form = await http.post(MCP, headers={**headers, "Content-Type": "text/plain"}, content=b"{}")
    assert form.status_code == 415
    assert (await http.get(MCP, headers=headers)).status_code == 405
    assert (await http.post(MCP, headers=headers, content=b"x" * (1024 * 1024 + 1))).status_code == 413


async def test_origin_and_host_defend_against_dns_rebinding(env: Any) -> None:
    state, http, token = env
    auth = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    init = rpc("initialize", protocolVersion="2025-06-18", capabilities={}, clientInfo={"name": "x", "version": "1"})
    assert (await http.post(MCP, headers={**auth, "Origin": "https://evil.example"}, json=init)).status_code == 403
    assert (await http.post(MCP, headers={**auth, "Origin": "null"}, json=init)).status_code == 403
    assert (await http.post(MCP, headers={**auth, "Origin": BASE_URL}, json=init)).status_code == 200
    assert (await http.post(MCP, headers={**auth, "Host": "evil.example"}, json=init)).status_code == 421
    assert (await http.post(MCP, headers={**auth, "Host": "127.0.0.1:9999"}, json=init)).status_code == 421
    assert (await http.post(MCP, headers={**auth, "Host": "localhost:8000"}, json=init)).status_code == 200
    assert (await http.get("/.well-known/oauth-authorization-server", headers={"Host": "rebound.example"})).status_code == 421
    # /mcp never carries CORS headers, even for a same-origin preflight.
    preflight = await http.options(MCP, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
