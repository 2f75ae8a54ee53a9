"""/mcp on MCP 2026-07-28 (in process): server/discover, request validation with the
specification's error codes, resultType, Mcp-Param headers, input_required and requestState."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from tests.mock.helpers import BASE_URL, MCP_HEADERS, asgi_client, make_app
from tests.mock.mcp2026 import ALL_CAPS, MODERN, body, headers, post, request

MCP = BASE_URL + "/mcp"


@pytest.fixture
async def env() -> Any:
    app, state = make_app()
    async with asgi_client(app) as http:
        yield state, http, state.mint_access_token(scope="mcp:read")
    state.close()


async def test_discover_names_the_revision_capabilities_and_caching(env: Any) -> None:
    state, http, token = env
    answer = await post(http, MCP, request("server/discover"), token)
    assert answer.status_code == 200
    result = answer.json()["result"]
    assert result["supportedVersions"] == [MODERN]
    assert result["resultType"] == "complete"
    assert result["capabilities"]["tools"] == {"listChanged": True}
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcp-auth-mock-server"
    assert result["ttlMs"] == 0 and result["cacheScope"] == "private"
    assert "mcp-session-id" not in answer.headers
    assert state.stats["mcp_era:2026-07-28"] == 1


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda m, h: h.pop("MCP-Protocol-Version"), 400, -32020),
        (lambda m, h: m["params"].pop("_meta"), 400, -32602),
        (lambda m, h: m["params"]["_meta"].pop("io.modelcontextprotocol/clientCapabilities"), 400, -32602),
        (lambda m, h: m["params"]["_meta"].pop("io.modelcontextprotocol/protocolVersion"), 400, -32602),
        (lambda m, h: h.update({"MCP-Protocol-Version": "2099-01-01"}), 400, -32020),
        (lambda m, h: h.update({"Mcp-Method": "tools/call"}), 400, -32020),
        (lambda m, h: h.update({"Mcp-Method": "TOOLS/LIST"}), 400, -32020),
        (lambda m, h: h.pop("Mcp-Method"), 400, -32020),
    ],
)
async def test_invalid_requests_get_the_specified_error(env: Any, mutate: Any, status: int, code: int) -> None:
    state, http, token = env
    message = request("tools/list", id_=41)
    sent = headers(message, token)
    mutate(message, sent)
    answer = await http.post(MCP, headers=sent, json=message)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert answer.json()["id"] == 41


async def test_unknown_version_lists_the_supported_ones(env: Any) -> None:
    state, http, token = env
    message = request("tools/list")
    message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01"
    answer = await post(http, MCP, message, token, **{"MCP-Protocol-Version": "2099-01-01"})
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": -32022, "message": "Unsupported protocol version",
        "data": {"supported": [MODERN], "requested": "2099-01-01"},
    }


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/subscribe", "nope/nope"])
async def test_removed_and_unknown_methods_are_404_method_not_found(env: Any, method: str) -> None:
    state, http, token = env
    answer = await post(http, MCP, request(method), token)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == -32601


async def test_results_carry_result_type_and_the_name_header_is_checked(env: Any) -> None:
    state, http, token = env
    call = request("tools/call", {"name": "echo", "arguments": {"text": "hi"}})
    ok = await post(http, MCP, call, token)
    assert ok.json()["result"] == {"content": [{"type": "text", "text": "hi"}], "isError": False,
                                   "resultType": "complete"}
    wrong = await post(http, MCP, call, token, **{"Mcp-Name": "whoami"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, -32020)
    spaced = await post(http, MCP, call, token, **{"Mcp-Name": "  echo  "})
    assert spaced.status_code == 200
    encoded = "=?base64?" + base64.b64encode(b"echo").decode() + "?="
    assert (await post(http, MCP, call, token, **{"Mcp-Name": encoded})).status_code == 200
    read = request("resources/read", {"uri": "test://static-text"})
    assert body(await post(http, MCP, read, token))["result"]["contents"][0]["text"].startswith("This is")
    missing = request("resources/read", {"uri": "test://nope"})
    error = body(await post(http, MCP, missing, token))["error"]
    assert error["code"] == -32602 and error["data"] == {"uri": "test://nope"}


@pytest.mark.parametrize(
    ("header", "region", "status"),
    [
        ("eu-west", "eu-west", 200),
        ("=?base64?" + base64.b64encode("Zürich".encode()).decode() + "?=", "Zürich", 200),
        (None, "eu-west", 400),
        ("us-east", "eu-west", 400),
        ("=?base64?ZXUtd2VzdA?=", "eu-west", 400),  # padding missing: not Base64
        ("=?base64?ZXUt!!!d2VzdA==?=", "eu-west", 400),
    ],
)
async def test_mcp_param_header_must_match_the_argument(env: Any, header: str | None, region: str, status: int) -> None:
    state, http, token = env
    listed = body(await post(http, MCP, request("tools/list"), token))["result"]["tools"]
    tool = next(t for t in listed if t["name"] == "regional_echo")
    assert tool["inputSchema"]["properties"]["region"]["x-mcp-header"] == "Region"
    call = request("tools/call", {"name": "regional_echo", "arguments": {"region": region, "text": "hi"}})
    extra = {} if header is None else {"Mcp-Param-Region": header}
    answer = await post(http, MCP, call, token, **extra)
    assert answer.status_code == status, answer.text
    if status == 200:
        assert body(answer)["result"]["content"][0]["text"] == f"[{region}] hi"
    else:
        assert answer.json()["error"]["code"] == -32020


async def test_confirm_action_is_a_multi_round_trip_with_signed_state(env: Any) -> None:
    state, http, token = env
    first = request("tools/call", {"name": "confirm_action", "arguments": {"action": "delete x"}},
                    capabilities=ALL_CAPS)
    round1 = body(await post(http, MCP, first, token))["result"]
    assert round1["resultType"] == "input_required"
    assert round1["inputRequests"]["confirm"]["method"] == "elicitation/create"
    assert round1["inputRequests"]["confirm"]["params"]["message"] == "Confirm: delete x?"
    answer = {"confirm": {"action": "accept", "content": {"confirm": True}}}
    second = request("tools/call", {"name": "confirm_action", "arguments": {"action": "delete x"},
                                    "inputResponses": answer, "requestState": round1["requestState"]},
                     capabilities=ALL_CAPS)
    done = body(await post(http, MCP, second, token))["result"]
    assert done == {"content": [{"type": "text", "text": "delete x: confirmed"}], "isError": False,
                    "resultType": "complete"}
    # The action lives in the signed state: a changed argument or state changes nothing / is refused.
    second["params"]["requestState"] = round1["requestState"][:-2] + "AA"
    tampered = body(await post(http, MCP, second, token))
    assert tampered["error"]["code"] == -32602
    other = state.mint_access_token(subject="mallory", scope="mcp:read")
    second["params"]["requestState"] = round1["requestState"]
    assert body(await post(http, MCP, second, other))["error"]["code"] == -32602


async def test_a_tool_needing_an_undeclared_capability_is_32021(env: Any) -> None:
    state, http, token = env
    call = request("tools/call", {"name": "confirm_action", "arguments": {"action": "x"}}, capabilities={})
    answer = await post(http, MCP, call, token)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == -32021
    assert answer.json()["error"]["data"] == {"requiredCapabilities": {"elicitation": {}}}


async def test_log_messages_only_when_the_request_sets_a_level(env: Any) -> None:
    state, http, token = env
    call = request("tools/call", {"name": "test_tool_with_logging", "arguments": {}})
    quiet = await post(http, MCP, call, token)
    assert "notifications/message" not in quiet.text
    call["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = "info"
    loud = await post(http, MCP, call, token)
    assert loud.text.count('"notifications/message"') == 3
    assert body(loud)["result"]["resultType"] == "complete"


async def test_bearer_protection_is_the_same_as_in_the_handshake_era(env: Any) -> None:
    state, http, token = env
    listing = request("tools/list")
    anonymous = await post(http, MCP, listing)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith('Bearer scope="mcp:read", resource_metadata=')
    expired = await post(http, MCP, listing, "not-a-token")
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
    write = request("tools/call", {"name": "write_note", "arguments": {"text": "x"}})
    denied = await post(http, MCP, write, token)
    assert denied.status_code == 403
    assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]
    assert 'scope="mcp:write"' in denied.headers["www-authenticate"]
    legacy = await http.post(MCP, headers=MCP_HEADERS, json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                                            "params": {"protocolVersion": "2025-11-25"}})
    assert legacy.status_code == 401
    assert legacy.headers["www-authenticate"] == anonymous.headers["www-authenticate"]


async def test_no_auth_knob_serves_without_a_token() -> None:
    app, state = make_app(require_auth=False)
    async with asgi_client(app) as http:
        answer = await post(http, MCP, request("tools/call", {"name": "whoami", "arguments": {}}))
        assert answer.status_code == 200
        assert '"sub": "anonymous"' in body(answer)["result"]["content"][0]["text"]
    state.close()


async def test_pinned_to_2026_refuses_initialize_with_the_spec_error_and_has_no_sessions() -> None:
    app, state = make_app(protocol=MODERN)
    token = state.mint_access_token(scope="mcp:read")
    auth = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}}
    async with asgi_client(app) as http:
        refused = await http.post(MCP, headers=auth, json=init)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == -32020
        assert "2026-07-28" in refused.json()["error"]["message"]
        assert "mcp-session-id" not in refused.headers
        assert (await http.get(MCP, headers=auth)).status_code == 405
        assert (await http.delete(MCP, headers=auth)).status_code == 405
        assert (await post(http, MCP, request("server/discover"), token)).status_code == 200
        unauthenticated = await post(http, MCP, request("server/discover"))
        assert unauthenticated.status_code == 401 and "resource_metadata=" in unauthenticated.headers["www-authenticate"]
    state.close()


@pytest.mark.parametrize("pinned", ["2025-11-25", "2025-06-18", "2025-03-26"])
async def test_pinned_to_a_handshake_revision_answers_discover_like_a_2025_server(pinned: str) -> None:
    app, state = make_app(protocol=pinned)
    token = state.mint_access_token(scope="mcp:read")
    async with asgi_client(app) as http:
        probe = await post(http, MCP, request("server/discover"), token)
        assert probe.status_code == 400
        assert probe.json()["error"]["code"] not in (-32020, -32021, -32022, -32602, -32601)
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}}
        answer = await http.post(MCP, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}, json=init)
        assert answer.json()["result"]["protocolVersion"] == pinned
        assert "mcp-session-id" in answer.headers
        anonymous = await http.post(MCP, headers=MCP_HEADERS, json=init)
        assert anonymous.status_code == 401 and "resource_metadata=" in anonymous.headers["www-authenticate"]
    state.close()



async def test_the_skills_extension_serves_one_skill_consistently(env: Any) -> None:
    state, http, token = env
    discovered = body(await post(http, MCP, request("server/discover"), token))["result"]
    assert discovered["capabilities"]["extensions"]["io.modelcontextprotocol/skills"] == {"directoryRead": True}
    listed = body(await post(http, MCP, request("skills/list"), token))["result"]
    (skill,) = listed["skills"]
    assert skill["uri"] == "skill://mcp-auth-mock/notes-helper/SKILL.md"
    assert skill["frontmatter"]["name"] == "notes-helper"
    for entry in skill["resources"]:  # digest and size are of the bytes resources/read returns
        read = body(await post(http, MCP, request("resources/read", {"uri": entry["uri"]}), token))["result"]
        data = read["contents"][0]["text"].encode()
        assert entry == {"uri": entry["uri"], "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}
    got = body(await post(http, MCP, request("skills/get", {"uri": skill["uri"]}), token))["result"]
    assert got["skill"] == skill
    unknown = body(await post(http, MCP, request("skills/get", {"uri": "skill://x/none/SKILL.md"}), token))
    assert unknown["error"]["code"] == -32602
    root = skill["uri"].rsplit("/", 1)[0]
    children = body(await post(http, MCP, request("resources/directory/read", {"uri": root}), token))["result"]
    assert {(c["name"], c["mimeType"]) for c in children["resources"]} == {
        ("SKILL.md", "text/markdown"), ("reference", "inode/directory")}
    not_a_dir = body(await post(http, MCP, request("resources/directory/read", {"uri": skill["uri"]}), token))
    assert not_a_dir["error"]["code"] == -32602
