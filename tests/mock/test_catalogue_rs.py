"""Security catalogue, RESOURCE SERVER items 31-36, against the in-process app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server import ManualClock
from mock_server.jose import SigningKey
from tests.mock.helpers import (
    BASE_URL,
    MCP_HEADERS,
    asgi_client,
    authorize_code,
    call_tool,
    exchange_code,
    make_app,
    mcp_initialize,
    refresh,
    register_public_client,
)

RESOURCE = BASE_URL + "/mcp"
PRM = BASE_URL + "/.well-known/oauth-protected-resource/mcp"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


@pytest.fixture
async def env() -> Any:
    clock = ManualClock()
    app, state = make_app(clock=clock, leeway=0)
    async with asgi_client(app) as http:
        yield state, http, clock
    state.close()


async def post_init(http: httpx.AsyncClient, headers: dict[str, str] | list[tuple[str, str]], url: str = RESOURCE) -> httpx.Response:
    if isinstance(headers, dict):
        headers = list(headers.items())
    return await http.post(url, headers=[*MCP_HEADERS.items(), *headers], json=INIT)


def params(header: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'(\w+)="([^"]*)"', header))


async def test_catalogue_rs_31_missing_or_malformed_credentials(env: Any) -> None:
    state, http, _ = env
    good = state.mint_access_token()
    none = await post_init(http, {})
    assert none.status_code == 401
    challenge = none.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and params(challenge)["resource_metadata"] == PRM
    assert "error" not in params(challenge) and params(challenge)["scope"] == "mcp:read"
    in_query = await post_init(http, {}, url=RESOURCE + "?access_token=" + good)
    assert in_query.status_code == 401 and "error=" not in in_query.headers["www-authenticate"]
    assert (await post_init(http, {"Authorization": "Bearer"})).status_code in (400, 401)
    assert (await post_init(http, {"Authorization": "Bearer "})).status_code in (400, 401)
    assert (await post_init(http, [("Authorization", f"Bearer {good}"), ("Authorization", f"Bearer {good}")])).status_code == 400
    basic = await post_init(http, {"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401 and "resource_metadata" in basic.headers["www-authenticate"]
    huge = await post_init(http, {"Authorization": "Bearer " + "a" * 1_000_000})
    assert huge.status_code == 401 and params(huge.headers["www-authenticate"])["error"] == "invalid_token"
    assert (await post_init(http, {"Authorization": f"bEaReR {good}"})).status_code == 200


async def test_catalogue_rs_32_expired_token_and_leeway() -> None:
    clock = ManualClock()
    app, state = make_app(clock=clock, leeway=60)
    async with asgi_client(app) as http:
        inside = state.mint_access_token(ttl=-30)
        outside = state.mint_access_token(ttl=-61)
        assert (await post_init(http, {"Authorization": f"Bearer {inside}"})).status_code == 200
        expired = await post_init(http, {"Authorization": f"Bearer {outside}"})
        assert expired.status_code == 401 and params(expired.headers["www-authenticate"])["error"] == "invalid_token"
        future = state.mint_access_token(extra_claims={"nbf": int(clock.now()) + 120})
        assert (await post_init(http, {"Authorization": f"Bearer {future}"})).status_code == 401
        future_iat = state.mint_access_token(extra_claims={"iat": int(clock.now()) + 120})
        assert (await post_init(http, {"Authorization": f"Bearer {future_iat}"})).status_code == 401
    state.close()
    app, state = make_app(clock=clock, leeway=0)
    async with asgi_client(app) as http:
        just_expired = state.mint_access_token(ttl=-1)
        assert (await post_init(http, {"Authorization": f"Bearer {just_expired}"})).status_code == 401
        token = state.mint_access_token(ttl=10)
        assert (await post_init(http, {"Authorization": f"Bearer {token}"})).status_code == 200
        clock.advance(11)
        assert (await post_init(http, {"Authorization": f"Bearer {token}"})).status_code == 401
    state.close()


async def test_catalogue_rs_33_revoked_tokens_fail_at_once(env: Any) -> None:
    state, http, _ = env
    client = await register_public_client(http, BASE_URL)
    cid = client["client_id"]

    async def tokens() -> tuple[dict[str, Any], Any]:
        auth = await authorize_code(http, BASE_URL, cid, resource=RESOURCE)
        body = (await exchange_code(http, BASE_URL, cid, auth, resource=RESOURCE)).json()
        assert (await post_init(http, {"Authorization": f"Bearer {body['access_token']}"})).status_code == 200
        return body, auth

    direct, _ = await tokens()
    await http.post(BASE_URL + "/revoke", data={"token": direct["access_token"], "client_id": cid})
    family, _ = await tokens()
    await refresh(http, BASE_URL, cid, family["refresh_token"], resource=RESOURCE)
    await refresh(http, BASE_URL, cid, family["refresh_token"], resource=RESOURCE)  # reuse
    replayed, auth = await tokens()
    await exchange_code(http, BASE_URL, cid, auth, resource=RESOURCE)  # replay
    for body in (direct, family, replayed):
        response = await post_init(http, {"Authorization": f"Bearer {body['access_token']}"})
        assert response.status_code == 401
        assert params(response.headers["www-authenticate"])["error"] == "invalid_token"


@pytest.mark.parametrize(
    "resource",
    ["https://rs-b.example/mcp", BASE_URL + "/other", "HTTP://127.0.0.1:8000/mcp", "http://127.0.0.1:8000/mcp/", None],
)
async def test_catalogue_rs_34_wrong_audience_is_invalid_token(env: Any, resource: str | None) -> None:
    state, http, _ = env
    if resource is None:
        token = state.mint_access_token(drop_claims=("aud",))
    else:
        token = state.mint_access_token(resource=resource)
    response = await post_init(http, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert params(response.headers["www-authenticate"])["error"] == "invalid_token"


async def test_catalogue_rs_34_foreign_signature_and_issuer_are_rejected(env: Any) -> None:
    state, http, clock = env
    now = int(clock.now())
    claims = {"iss": BASE_URL, "aud": RESOURCE, "sub": "demo-user", "client_id": "x", "scope": "mcp:read",
              "jti": "j1", "iat": now, "exp": now + 300}
    forged = SigningKey.generate("ES256").sign(claims)
    assert (await post_init(http, {"Authorization": f"Bearer {forged}"})).status_code == 401
    other_iss = state.mint_access_token(extra_claims={"iss": "https://other-as.example"})
    assert (await post_init(http, {"Authorization": f"Bearer {other_iss}"})).status_code == 401
    none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + forged.split(".")[1] + "."
    assert (await post_init(http, {"Authorization": f"Bearer {none_alg}"})).status_code == 401


async def test_catalogue_rs_35_insufficient_scope_lists_every_needed_scope(env: Any) -> None:
    state, http, _ = env
    read = state.mint_access_token(scope="mcp:read")
    headers = await mcp_initialize(http, RESOURCE, read)
    assert (await call_tool(http, RESOURCE, headers, "echo", {"text": "x"})).status_code == 200
    denied = await call_tool(http, RESOURCE, headers, "write_note", {"text": "x"})
    assert denied.status_code == 403
    p = params(denied.headers["www-authenticate"])
    assert p["error"] == "insufficient_scope" and p["scope"] == "mcp:write" and p["resource_metadata"] == PRM
    write = state.mint_access_token(scope="mcp:write")
    headers = await mcp_initialize(http, RESOURCE, write)
    assert (await call_tool(http, RESOURCE, headers, "write_note", {"text": "x"})).status_code == 200
    share = await call_tool(http, RESOURCE, headers, "share_note", {"index": 1})
    assert share.status_code == 403 and params(share.headers["www-authenticate"])["scope"] == "mcp:write notes:share"
    # Hierarchy: mcp:admin implies mcp:write implies mcp:read.
    admin = state.mint_access_token(scope="mcp:admin")
    headers = await mcp_initialize(http, RESOURCE, admin)
    for tool, args in (("echo", {"text": "x"}), ("write_note", {"text": "y"}), ("admin_stats", {})):
        assert (await call_tool(http, RESOURCE, headers, tool, args)).status_code == 200, tool
    nothing = state.mint_access_token(scope="notes:share")
    headers = await mcp_initialize(http, RESOURCE, nothing)
    listing = await http.post(RESOURCE, headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert listing.status_code == 403 and params(listing.headers["www-authenticate"])["scope"] == "mcp:read"


async def test_catalogue_rs_36_no_token_passthrough(env: Any) -> None:
    state, http, _ = env
    upstream = state.mint_access_token(resource="https://api.upstream.example")
    assert (await post_init(http, {"Authorization": f"Bearer {upstream}"})).status_code == 401
    token = state.mint_access_token()
    headers = await mcp_initialize(http, RESOURCE, token)
    result = await call_tool(http, RESOURCE, headers, "whoami")
    text = result.json()["result"]["content"][0]["text"]
    # No tool output, and no tool, ever carries the caller's token onwards.
    assert token not in text and token.split(".")[2] not in result.text
