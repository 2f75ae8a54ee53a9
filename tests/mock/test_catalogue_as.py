"""Security catalogue, AUTHORIZATION SERVER items 16-30, against the in-process app."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mock_server import ManualClock
from tests.mock.helpers import (
    BASE_URL,
    AuthorizationResult,
    asgi_client,
    authorize_code,
    exchange_code,
    make_app,
    pkce_pair,
    refresh,
    register_public_client,
)

ISSUER = BASE_URL
RESOURCE = BASE_URL + "/mcp"


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


async def rs_status(http: httpx.AsyncClient, token: str) -> int:
    response = await http.post(
        RESOURCE,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
    )
    return response.status_code


def auth_params(client_id: str, challenge: str, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "http://127.0.0.1:50123/callback",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-1",
        "scope": "mcp:read",
        "resource": RESOURCE,
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


@pytest.fixture
async def env() -> Any:
    clock = ManualClock()
    app, state = make_app(clock=clock)
    async with asgi_client(app) as http:
        client = await register_public_client(http, ISSUER)
        yield state, http, client["client_id"], clock
    state.close()


async def fresh_tokens(http: httpx.AsyncClient, client_id: str, scope: str = "mcp:read") -> dict[str, Any]:
    auth = await authorize_code(http, ISSUER, client_id, resource=RESOURCE, scope=scope)
    response = await exchange_code(http, ISSUER, client_id, auth, resource=RESOURCE)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": "bar"},
        {"code_challenge_method": None},
        {"code_challenge": "a" * 42},
        {"code_challenge": "a" * 129},
        {"code_challenge": "a" * 42 + "!"},
    ],
)
async def test_catalogue_as_16_pkce_missing_plain_or_malformed_is_invalid_request(env: Any, overrides: dict[str, str | None]) -> None:
    state, http, client_id, _ = env
    _, challenge = pkce_pair()
    response = await http.get(ISSUER + "/authorize", params=auth_params(client_id, challenge, **overrides))
    query = redirect_query(response)
    assert query["error"] == "invalid_request"
    assert "code" not in query
    metadata = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert state.stats["codes_issued"] == 0


@pytest.mark.parametrize("verifier", [None, "x" * 43, "short", "a" * 43 + " "])
async def test_catalogue_as_17_wrong_or_missing_verifier_is_invalid_grant(env: Any, verifier: str | None) -> None:
    state, http, client_id, _ = env
    auth = await authorize_code(http, ISSUER, client_id, resource=RESOURCE)
    data = {"grant_type": "authorization_code", "code": auth.code, "redirect_uri": auth.redirect_uri,
            "client_id": client_id, "resource": RESOURCE}
    if verifier is not None:
        data["code_verifier"] = verifier
    response = await http.post(ISSUER + "/token", data=data)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert state.stats["tokens_issued"] == 0
    # The failed attempt neither consumed the code nor revoked anything.
    good = await exchange_code(http, ISSUER, client_id, auth, resource=RESOURCE)
    assert good.status_code == 200


async def test_catalogue_as_18_pkce_downgrade_is_rejected(env: Any) -> None:
    state, http, client_id, clock = env
    verifier, _ = pkce_pair()
    state.store.create_code("downgrade-code", client_id=client_id, redirect_uri="http://127.0.0.1:50123/callback",
                            resource=RESOURCE, scope="mcp:read", challenge="", subject="demo-user", now=clock.now())
    response = await exchange_code(
        http, ISSUER, client_id,
        AuthorizationResult("downgrade-code", verifier, "http://127.0.0.1:50123/callback", "s", None),
        resource=RESOURCE,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("delay", [1, 30])
async def test_catalogue_as_19_code_replay_revokes_the_first_grant(env: Any, delay: int) -> None:
    state, http, client_id, clock = env
    auth = await authorize_code(http, ISSUER, client_id, resource=RESOURCE)
    first = await exchange_code(http, ISSUER, client_id, auth, resource=RESOURCE)
    assert first.status_code == 200
    tokens = first.json()
    assert await rs_status(http, tokens["access_token"]) == 200
    clock.advance(delay)
    replay = await exchange_code(http, ISSUER, client_id, auth, resource=RESOURCE)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert await rs_status(http, tokens["access_token"]) == 401
    again = await refresh(http, ISSUER, client_id, tokens["refresh_token"], resource=RESOURCE)
    assert again.json()["error"] == "invalid_grant"


async def test_catalogue_as_19_replay_with_wrong_verifier_or_client_does_not_revoke(env: Any) -> None:
    state, http, client_id, _ = env
    other = await register_public_client(http, ISSUER)
    auth = await authorize_code(http, ISSUER, client_id, resource=RESOURCE)
    tokens = (await exchange_code(http, ISSUER, client_id, auth, resource=RESOURCE)).json()
    wrong_verifier = AuthorizationResult(auth.code, pkce_pair()[0], auth.redirect_uri, auth.state, auth.iss)
    r1 = await exchange_code(http, ISSUER, client_id, wrong_verifier, resource=RESOURCE)
    r2 = await exchange_code(http, ISSUER, other["client_id"], auth, resource=RESOURCE)
    assert r1.json()["error"] == r2.json()["error"] == "invalid_grant"
    assert await rs_status(http, tokens["access_token"]) == 200


async def test_catalogue_as_20_code_expiry_binding_and_parallel_redemption(env: Any) -> None:
    state, http, client_id, clock = env
    other = await register_public_client(http, ISSUER)
    # Expired (codes live 60 s).
    auth = await authorize_code(http, ISSUER, client_id, resource=RESOURCE)
    clock.advance(61)
    expired = await exchange_code(http, ISSUER, client_id, auth, resource=RESOURCE)
    assert expired.json()["error"] == "invalid_grant"
    # Bound to the client, the redirect URI and the resource.
    auth = await authorize_code(http, ISSUER, client_id, resource=RESOURCE)
    assert (await exchange_code(http, ISSUER, other["client_id"], auth, resource=RESOURCE)).json()["error"] == "invalid_grant"
    moved = AuthorizationResult(auth.code, auth.verifier, "http://127.0.0.1:50124/callback", auth.state, auth.iss)
    assert (await exchange_code(http, ISSUER, client_id, moved, resource=RESOURCE)).json()["error"] == "invalid_grant"
    assert (await exchange_code(http, ISSUER, client_id, auth, resource=BASE_URL + "/other")).json()["error"] == "invalid_target"
    # 20 parallel redemptions: exactly one wins.
    results = await asyncio.gather(*(exchange_code(http, ISSUER, client_id, auth, resource=RESOURCE) for _ in range(20)))
    assert sorted(r.status_code for r in results) == [200] + [400] * 19


LOOPBACK_REJECTS = [
    "http://localhost:53122/cb",
    "HTTP://127.0.0.1:53122/cb",
    "http://127.000.000.001:53122/cb",
    "http://127.0.0.1:53122/x/../cb",
    "http://127.0.0.1:53122/cb?x=1",
    "http://127.0.0.1:53122/cb#f",
    "http://127.0.0.1:53122@evil/cb",
    "https://127.0.0.1:53122/cb",
    "http://127.0.0.1:53122/other",
    "http://127.0.0.1:53122/cb/",
    "http://127.0.0.1:0/cb",
    "http://127.0.0.1:99999/cb",
]


async def test_catalogue_as_21_redirect_uri_exact_match_with_loopback_port_variance(env: Any) -> None:
    state, http, _, _ = env
    loopback = await register_public_client(http, ISSUER, redirect_uri="http://127.0.0.1/cb")
    web = await register_public_client(http, ISSUER, redirect_uri="https://app.example.com/cb", application_type="web")
    _, challenge = pkce_pair()
    for port in (1, 53122, 65535):
        ok = await http.get(ISSUER + "/authorize", params=auth_params(loopback["client_id"], challenge, redirect_uri=f"http://127.0.0.1:{port}/cb"))
        assert "code" in redirect_query(ok)
    for bad in LOOPBACK_REJECTS:
        response = await http.get(ISSUER + "/authorize", params=auth_params(loopback["client_id"], challenge, redirect_uri=bad))
        assert response.status_code == 400, bad
        assert "location" not in response.headers
    ok = await http.get(ISSUER + "/authorize", params=auth_params(web["client_id"], challenge, redirect_uri="https://app.example.com/cb"))
    assert "code" in redirect_query(ok)
    for bad in ("https://app.example.com:8443/cb", "https://APP.example.com/cb", "https://app.example.com/cb/"):
        response = await http.get(ISSUER + "/authorize", params=auth_params(web["client_id"], challenge, redirect_uri=bad))
        assert response.status_code == 400 and "location" not in response.headers, bad


async def test_catalogue_as_22_never_an_open_redirector(env: Any) -> None:
    state, http, client_id, _ = env
    _, challenge = pkce_pair()
    unknown = await http.get(ISSUER + "/authorize", params=auth_params("no-such-client", challenge))
    assert unknown.status_code == 400 and "location" not in unknown.headers
    assert "not registered" in unknown.text
    unregistered = await http.get(ISSUER + "/authorize", params=auth_params(client_id, challenge, redirect_uri="https://evil.example/cb"))
    assert unregistered.status_code == 400 and "location" not in unregistered.headers
    # A denial goes back with error, state and iss, by 303.
    state.knobs.auto_approve = False
    page = await http.get(ISSUER + "/authorize", params=auth_params(client_id, challenge))
    form = consent_form(page.text)
    denied = await http.post(ISSUER + "/authorize", data={**form, "decision": "deny"})
    assert denied.status_code == 303
    query = redirect_query(denied)
    assert query["error"] == "access_denied" and query["state"] == "st-1" and query["iss"] == ISSUER
    assert denied.headers["location"].startswith("http://127.0.0.1:50123/callback?")


def consent_form(html: str) -> dict[str, str]:
    import re

    fields = dict(re.findall(r'name="(pending_id|csrf_token)" value="([^"]+)"', html))
    assert set(fields) == {"pending_id", "csrf_token"}
    return fields


@pytest.mark.parametrize("issuer_path", ["", "/tenant1"])
async def test_catalogue_as_23_iss_on_every_authorization_response(issuer_path: str) -> None:
    app, state = make_app(issuer_path=issuer_path)
    issuer = BASE_URL + issuer_path
    async with asgi_client(app) as http:
        well_known = "/.well-known/oauth-authorization-server" + issuer_path
        metadata = (await http.get(well_known)).json()
        assert metadata["issuer"] == issuer
        assert metadata["authorization_response_iss_parameter_supported"] is True
        client = await register_public_client(http, issuer)
        auth = await authorize_code(http, issuer, client["client_id"], resource=RESOURCE)
        assert auth.iss == issuer
        _, challenge = pkce_pair()
        error = await http.get(issuer + "/authorize", params=auth_params(client["client_id"], challenge, scope="nope:nope"))
        assert redirect_query(error)["iss"] == issuer
        tokens = (await exchange_code(http, issuer, client["client_id"], auth, resource=RESOURCE)).json()
        assert jwt_claims(tokens["access_token"])["iss"] == issuer
    state.close()


async def test_catalogue_as_24_refresh_rotation_and_reuse_revokes_the_family(env: Any) -> None:
    state, http, client_id, _ = env
    tokens = await fresh_tokens(http, client_id)
    rt1 = tokens["refresh_token"]
    second = (await refresh(http, ISSUER, client_id, rt1, resource=RESOURCE)).json()
    rt2, at2 = second["refresh_token"], second["access_token"]
    assert rt2 != rt1
    assert await rs_status(http, at2) == 200
    reuse = await refresh(http, ISSUER, client_id, rt1, resource=RESOURCE)
    assert reuse.json()["error"] == "invalid_grant"
    assert (await refresh(http, ISSUER, client_id, rt2, resource=RESOURCE)).json()["error"] == "invalid_grant"
    assert await rs_status(http, at2) == 401
    # Two parallel uses of one refresh token: one wins, then the family dies.
    rt = (await fresh_tokens(http, client_id))["refresh_token"]
    a, b = await asyncio.gather(refresh(http, ISSUER, client_id, rt, resource=RESOURCE),
                                refresh(http, ISSUER, client_id, rt, resource=RESOURCE))
    assert sorted([a.status_code, b.status_code]) == [200, 400]
    winner = a if a.status_code == 200 else b
    assert await rs_status(http, winner.json()["access_token"]) == 401


async def test_catalogue_as_24_refresh_token_of_another_client_is_invalid_grant(env: Any) -> None:
    state, http, client_id, _ = env
    other = await register_public_client(http, ISSUER)
    tokens = await fresh_tokens(http, client_id)
    stolen = await refresh(http, ISSUER, other["client_id"], tokens["refresh_token"], resource=RESOURCE)
    assert stolen.json()["error"] == "invalid_grant"
    assert (await refresh(http, ISSUER, client_id, tokens["refresh_token"], resource=RESOURCE)).status_code == 200


async def test_catalogue_as_25_no_scope_or_resource_widening_at_refresh(env: Any) -> None:
    state, http, client_id, clock = env
    tokens = await fresh_tokens(http, client_id, scope="mcp:read mcp:write")
    wider = await refresh(http, ISSUER, client_id, tokens["refresh_token"], resource=RESOURCE, scope="mcp:read mcp:admin")
    assert wider.json()["error"] == "invalid_scope"
    other = await refresh(http, ISSUER, client_id, tokens["refresh_token"], resource="https://rs-b.example/mcp")
    assert other.json()["error"] == "invalid_target"
    narrower = await refresh(http, ISSUER, client_id, tokens["refresh_token"], resource=RESOURCE, scope="mcp:read")
    assert narrower.status_code == 200 and narrower.json()["scope"] == "mcp:read"
    # The rotated refresh token keeps the full original scope.
    full = await refresh(http, ISSUER, client_id, narrower.json()["refresh_token"], resource=RESOURCE, scope="mcp:read mcp:write")
    assert full.status_code == 200 and full.json()["scope"] == "mcp:read mcp:write"
    clock.advance(86400 + 1)
    expired = await refresh(http, ISSUER, client_id, full.json()["refresh_token"], resource=RESOURCE)
    assert expired.json()["error"] == "invalid_grant"


async def register_confidential(http: httpx.AsyncClient, method: str = "client_secret_basic") -> dict[str, Any]:
    response = await http.post(ISSUER + "/register", json={
        "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token"], "application_type": "native",
    })
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def test_catalogue_as_26_revocation(env: Any) -> None:
    state, http, client_id, _ = env
    other = await register_public_client(http, ISSUER)
    tokens = await fresh_tokens(http, client_id)
    # Unknown or garbage token: 200.
    assert (await http.post(ISSUER + "/revoke", data={"token": "garbage", "client_id": client_id})).status_code == 200
    # Another client's token: silent 200, nothing revoked.
    r = await http.post(ISSUER + "/revoke", data={"token": tokens["refresh_token"], "client_id": other["client_id"]})
    assert r.status_code == 200 and await rs_status(http, tokens["access_token"]) == 200
    # Missing token.
    missing = await http.post(ISSUER + "/revoke", data={"client_id": client_id})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    # Revoking the refresh token (with a wrong hint) kills it and its access tokens.
    r = await http.post(ISSUER + "/revoke", data={"token": tokens["refresh_token"], "token_type_hint": "access_token", "client_id": client_id})
    assert r.status_code == 200
    assert await rs_status(http, tokens["access_token"]) == 401
    assert (await refresh(http, ISSUER, client_id, tokens["refresh_token"], resource=RESOURCE)).json()["error"] == "invalid_grant"
    # An access token alone.
    tokens = await fresh_tokens(http, client_id)
    r = await http.post(ISSUER + "/revoke", data={"token": tokens["access_token"], "token_type_hint": "bogus", "client_id": client_id})
    assert r.status_code == 200 and await rs_status(http, tokens["access_token"]) == 401
    # A confidential client with bad credentials.
    conf = await register_confidential(http)
    bad = await http.post(ISSUER + "/revoke", data={"token": "x"}, auth=(conf["client_id"], "wrong-secret"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert "wrong-secret" not in bad.text


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("/mcp", "invalid_target"),
        (RESOURCE + "#frag", "invalid_target"),
        ("https://unknown-rs.example/mcp", "invalid_target"),
        ("http://127.0.0.1:8000/mcp/", "invalid_target"),
        (None, "invalid_target"),
    ],
)
async def test_catalogue_as_27_resource_indicator_validation(env: Any, resource: str | None, expected: str) -> None:
    state, http, client_id, _ = env
    _, challenge = pkce_pair()
    response = await http.get(ISSUER + "/authorize", params=auth_params(client_id, challenge, resource=resource))
    assert redirect_query(response)["error"] == expected


async def test_catalogue_as_27_several_resources_rejected_and_aud_is_exact(env: Any) -> None:
    state, http, client_id, _ = env
    _, challenge = pkce_pair()
    params = list(auth_params(client_id, challenge).items()) + [("resource", "https://other.example/mcp")]
    response = await http.get(ISSUER + "/authorize", params=params)
    assert response.status_code == 400 and "location" not in response.headers
    tokens = await fresh_tokens(http, client_id)
    assert jwt_claims(tokens["access_token"])["aud"] == RESOURCE


MALICIOUS_METADATA: list[Any] = [
    *[{"redirect_uris": [u]} for u in (
        "javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd", "blob:https://a/b",
        "about:blank", "https://app.example.com/cb#frag", "https://user@app.example.com/cb",
        "https://*.example.com/cb", "http://app.example.com/cb", "http://127.0.0.1.nip.io/cb",
        "http://localhost.evil.com/cb",
    )],
    {"redirect_uris": ["https://app.example.com/cb"], "logo_uri": "javascript:alert(1)"},
    {"redirect_uris": ["https://app.example.com/cb"], "client_uri": "https://evil.example/"},
    {"redirect_uris": ["https://app.example.com/cb"], "policy_uri": "ftp://app.example.com/p"},
    {"redirect_uris": ["https://app.example.com/cb"], "tos_uri": "https://other.example/tos"},
    {"redirect_uris": ["https://app.example.com/cb"], "client_name": "<b>Bank</b>"},
    {"redirect_uris": ["https://app.example.com/cb"], "client_name": "Good\u202eliab"},
    {"redirect_uris": ["https://app.example.com/cb"], "client_name": "x" * 201},
    {"redirect_uris": [f"https://app.example.com/cb{i}" for i in range(11)]},
    {"redirect_uris": ["https://app.example.com/cb"], "grant_types": ["password"]},
    {"redirect_uris": ["https://app.example.com/cb"], "grant_types": ["implicit"]},
    {"redirect_uris": ["https://app.example.com/cb"], "grant_types": ["authorization_code", "client_credentials"]},
    {"redirect_uris": ["https://app.example.com/cb"], "token_endpoint_auth_method": "private_key_jwt_x"},
    {"redirect_uris": ["https://app.example.com/cb"], "response_types": ["token"]},
    {"redirect_uris": ["http://127.0.0.1/cb"]},  # loopback without application_type native
    {"redirect_uris": []},
    {"redirect_uris": "https://app.example.com/cb"},
    None,
    [],
    "string",
]


@pytest.mark.parametrize("body", MALICIOUS_METADATA)
async def test_catalogue_as_28_dcr_rejects_malicious_metadata(env: Any, body: Any) -> None:
    state, http, _, _ = env
    before = state.stats["clients_registered"]
    response = await http.post(ISSUER + "/register", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, body
    assert response.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")
    assert response.headers["cache-control"] == "no-store"
    assert state.stats["clients_registered"] == before


async def test_catalogue_as_28_dcr_rejects_huge_redirect_list_and_bad_json(env: Any) -> None:
    state, http, _, _ = env
    huge = {"redirect_uris": [f"https://app.example.com/cb{i}" for i in range(10_000)]}
    assert (await http.post(ISSUER + "/register", json=huge)).status_code == 413
    for raw in (b'{"redirect_uris": ["https://a.example/cb"], "redirect_uris": []}', b'{"x": NaN}'):
        r = await http.post(ISSUER + "/register", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"


async def test_catalogue_as_29_consent_page_no_framing_csrf_and_escaping(env: Any) -> None:
    state, http, _, clock = env
    state.knobs.auto_approve = False
    state.store.put_client("evil-name", secret=None, metadata={
        "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"], "client_name": '<script>alert("x")</script>',
    }, source="static", rat=None, now=clock.now())
    _, challenge = pkce_pair()
    params = auth_params("evil-name", challenge, redirect_uri="http://127.0.0.1:4000/cb", state="<img src=x>")
    page = await http.get(ISSUER + "/authorize", params=params)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "127.0.0.1" in page.text and 'id="loopback-warning"' in page.text
    assert "<img" not in page.text
    form = consent_form(page.text)
    # Approval by GET does not exist: the same URL just shows the page again.
    again = await http.get(ISSUER + "/authorize", params={**params, "decision": "approve", **form})
    assert again.status_code == 200 and "location" not in again.headers
    # POST without the CSRF token, with a wrong one, without the browser cookie, or cross-site.
    assert (await http.post(ISSUER + "/authorize", data={"pending_id": form["pending_id"], "decision": "approve"})).status_code == 403
    assert (await http.post(ISSUER + "/authorize", data={**form, "csrf_token": "x" * 32, "decision": "approve"})).status_code == 403
    saved = httpx.Cookies(http.cookies)
    http.cookies.clear()
    assert (await http.post(ISSUER + "/authorize", data={**form, "decision": "approve"})).status_code == 403
    http.cookies = saved
    cross = await http.post(ISSUER + "/authorize", data={**form, "decision": "approve"}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert state.stats["codes_issued"] == 0
    ok = await http.post(ISSUER + "/authorize", data={**form, "decision": "approve"}, headers={"Origin": BASE_URL})
    assert ok.status_code == 303 and "code" in redirect_query(ok)
    replay = await http.post(ISSUER + "/authorize", data={**form, "decision": "approve"})
    assert replay.status_code == 400 and "location" not in replay.headers
    # An https-only client gets no loopback warning.
    web = await register_public_client(http, ISSUER, redirect_uri="https://app.example.com/cb", application_type="web")
    web_page = await http.get(ISSUER + "/authorize", params=auth_params(web["client_id"], challenge, redirect_uri="https://app.example.com/cb"))
    assert 'id="loopback-warning"' not in web_page.text and "app.example.com" in web_page.text


async def test_catalogue_as_30_rate_limits_per_ip_and_client() -> None:
    app, state = make_app(rate_limit_per_ip=5, rate_limit_per_client=3)
    async with asgi_client(app) as http:
        statuses = [(await http.post(ISSUER + "/register", json={"redirect_uris": ["https://a.example/cb"]})).status_code for _ in range(7)]
        assert statuses[:5] == [201] * 5 and statuses[5:] == [429, 429]
        limited = await http.post(ISSUER + "/register", json={})
        assert int(limited.headers["retry-after"]) >= 1
        # Per client on /token: the 4th request of one client is limited although the IP has room.
        client_id = "mcp_fake"
        state.store.put_client(client_id, secret=None, metadata={"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"]}, source="static", rat=None, now=state.now())
        codes = [(await http.post(ISSUER + "/token", data={"grant_type": "authorization_code", "code": "x", "client_id": client_id})).status_code for _ in range(4)]
        assert codes == [400, 400, 400, 429]
        authz = [(await http.get(ISSUER + "/authorize", params={"client_id": "nobody"})).status_code for _ in range(6)]
        assert authz[-1] == 429
    state.close()


async def test_catalogue_as_30_request_hygiene(env: Any) -> None:
    state, http, client_id, _ = env
    dup = await http.post(ISSUER + "/token", content=b"grant_type=authorization_code&code=a&code=b&client_id=" + client_id.encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert dup.status_code == 400 and dup.json()["error"] == "invalid_request"
    as_json = await http.post(ISSUER + "/token", json={"grant_type": "authorization_code"})
    assert as_json.status_code in (400, 415)
    big = await http.post(ISSUER + "/token", data={"grant_type": "refresh_token", "refresh_token": "x" * 70_000})
    assert big.status_code == 413
    tokens = await fresh_tokens(http, client_id)
    assert tokens["token_type"] == "Bearer"
    ok = await refresh(http, ISSUER, client_id, tokens["refresh_token"], resource=RESOURCE)
    assert ok.headers["cache-control"] == "no-store"
    error = await refresh(http, ISSUER, client_id, "rt_secret_canary_value", resource=RESOURCE)
    assert error.headers["cache-control"] == "no-store" and "canary" not in error.text
    conf = await register_confidential(http, "client_secret_post")
    assert conf["client_secret"]
    wrong = await http.post(ISSUER + "/token", data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": conf["client_id"], "client_secret": "secret-canary"})
    assert wrong.status_code == 401 and "secret-canary" not in wrong.text
