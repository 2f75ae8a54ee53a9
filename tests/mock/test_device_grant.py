"""The mock's device authorization grant (RFC 8628): endpoint, verification page, token grant."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from mock_server import ManualClock, MockState
from mock_server.device_store import normalise_user_code
from tests.mock.helpers import (
    BASE_URL,
    asgi_client,
    call_tool,
    make_app,
    mcp_initialize,
    register_public_client,
)

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RESOURCE = BASE_URL + "/mcp"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest_asyncio.fixture
async def device_app() -> AsyncIterator[tuple[MockState, httpx.AsyncClient, ManualClock]]:
    clock = ManualClock()
    app, state = make_app(auto_approve=False, clock=clock, device_interval=5, device_code_ttl=600)
    async with asgi_client(app) as http:
        yield state, http, clock
    state.close()


async def start(http: httpx.AsyncClient, client_id: str, **extra: str) -> httpx.Response:
    form = {"client_id": client_id, "scope": "mcp:read", "resource": RESOURCE, **extra}
    return await http.post("/device_authorization", data=form)


async def poll(http: httpx.AsyncClient, client_id: str, device_code: str) -> httpx.Response:
    return await http.post(
        "/token",
        data={"grant_type": GRANT, "device_code": device_code, "client_id": client_id, "resource": RESOURCE},
    )


async def enter_code(http: httpx.AsyncClient, typed: str) -> httpx.Response:
    page = await http.get("/device")
    token = CSRF.search(page.text)
    assert token is not None
    return await http.post("/device", data={"csrf_token": token.group(1), "user_code": typed})


async def decide(http: httpx.AsyncClient, user_code: str, decision: str) -> httpx.Response:
    consent = await enter_code(http, user_code)
    assert consent.status_code == 200, consent.text
    token = CSRF.search(consent.text)
    assert token is not None
    code = normalise_user_code(user_code)
    assert code is not None
    return await http.post(
        "/device/decision", data={"csrf_token": token.group(1), "user_code": code, "decision": decision}
    )


async def new_request(http: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    client = await register_public_client(http, BASE_URL)
    answer = await start(http, client["client_id"])
    assert answer.status_code == 200, answer.text
    return client["client_id"], answer.json()


async def test_metadata_advertises_the_endpoint_and_grant(device_app: Any) -> None:
    _, http, _ = device_app
    doc = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert doc["device_authorization_endpoint"] == BASE_URL + "/device_authorization"
    assert GRANT in doc["grant_types_supported"]


async def test_without_the_grant_nothing_is_offered() -> None:
    app, state = make_app(device_grant=False)
    async with asgi_client(app) as http:
        doc = (await http.get("/.well-known/oauth-authorization-server")).json()
        assert "device_authorization_endpoint" not in doc
        assert GRANT not in doc["grant_types_supported"]
        client = await register_public_client(http, BASE_URL)
        assert (await start(http, client["client_id"])).status_code == 404
        refused = await poll(http, client["client_id"], "dc_whatever")
        assert refused.json()["error"] == "unsupported_grant_type"
        assert (await http.get("/device")).status_code == 404
    state.close()


async def test_authorization_answer(device_app: Any) -> None:
    _, http, _ = device_app
    client = await register_public_client(http, BASE_URL)
    answer = await start(http, client["client_id"])
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert USER_CODE.match(body["user_code"])
    assert body["verification_uri"] == BASE_URL + "/device"
    assert body["verification_uri_complete"] == BASE_URL + "/device?user_code=" + body["user_code"]
    assert body["expires_in"] == 600 and body["interval"] == 5
    assert body["device_code"].startswith("dc_") and len(body["device_code"]) > 40


async def test_authorization_checks_client_scope_and_resource(device_app: Any) -> None:
    _, http, _ = device_app
    unknown = await start(http, "no-such-client")
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    client = await register_public_client(http, BASE_URL, scope="mcp:read")
    cid = client["client_id"]
    assert (await start(http, cid, scope="mcp:admin")).json()["error"] == "invalid_scope"
    assert (await start(http, cid, scope="nonsense")).json()["error"] == "invalid_scope"
    assert (await start(http, cid, resource="http://127.0.0.1:9/other")).json()["error"] == "invalid_target"
    missing = await http.post("/device_authorization", data={"client_id": cid})
    assert missing.json()["error"] == "invalid_target"


async def test_confidential_client_must_authenticate(device_app: Any) -> None:
    _, http, _ = device_app
    client = await register_public_client(http, BASE_URL, token_endpoint_auth_method="client_secret_post")
    refused = await start(http, client["client_id"])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    ok = await start(http, client["client_id"], client_secret=client["client_secret"])
    assert ok.status_code == 200


async def test_pending_slow_down_approve_tokens_then_one_use(device_app: Any) -> None:
    state, http, clock = device_app
    cid, body = await new_request(http)
    first = await poll(http, cid, body["device_code"])
    assert first.status_code == 400 and first.json()["error"] == "authorization_pending"
    too_fast = await poll(http, cid, body["device_code"])  # same instant: faster than 5 s
    assert too_fast.json()["error"] == "slow_down"
    clock.advance(6)  # enough for the old interval, not for the new one (10 s)
    assert (await poll(http, cid, body["device_code"])).json()["error"] == "slow_down"
    clock.advance(16)
    assert (await poll(http, cid, body["device_code"])).json()["error"] == "authorization_pending"
    done = await decide(http, body["user_code"], "approve")
    assert done.status_code == 200 and "Device connected" in done.text
    clock.advance(16)
    tokens = await poll(http, cid, body["device_code"])
    assert tokens.status_code == 200, tokens.text
    issued = tokens.json()
    assert issued["token_type"] == "Bearer" and issued["scope"] == "mcp:read"
    assert "refresh_token" in issued
    check = state.check_access_token(issued["access_token"])
    assert check.ok and check.claims["aud"] == RESOURCE and check.claims["client_id"] == cid
    headers = await mcp_initialize(http, RESOURCE, issued["access_token"])
    assert (await call_tool(http, RESOURCE, headers, "whoami")).status_code == 200
    clock.advance(16)
    again = await poll(http, cid, body["device_code"])
    assert again.json()["error"] == "invalid_grant"
    assert state.stats["device_poll:slow_down"] == 2


async def test_deny_gives_access_denied(device_app: Any) -> None:
    _, http, _ = device_app
    cid, body = await new_request(http)
    done = await decide(http, body["user_code"], "deny")
    assert "Request denied" in done.text
    assert (await poll(http, cid, body["device_code"])).json()["error"] == "access_denied"


async def test_expired_code(device_app: Any) -> None:
    _, http, clock = device_app
    cid, body = await new_request(http)
    clock.advance(601)
    assert (await poll(http, cid, body["device_code"])).json()["error"] == "expired_token"
    late = await enter_code(http, body["user_code"])
    assert late.status_code == 400 and "expired" in late.text


async def test_other_client_cannot_poll_or_slow_the_owner(device_app: Any) -> None:
    _, http, _ = device_app
    cid, body = await new_request(http)
    other = await register_public_client(http, BASE_URL)
    stolen = await poll(http, other["client_id"], body["device_code"])
    assert stolen.json()["error"] == "invalid_grant"
    assert (await poll(http, cid, body["device_code"])).json()["error"] == "authorization_pending"


async def test_user_code_typed_loosely_is_accepted(device_app: Any) -> None:
    _, http, _ = device_app
    _, body = await new_request(http)
    loose = body["user_code"].lower().replace("-", " ")
    page = await enter_code(http, loose)
    assert page.status_code == 200 and 'id="approve"' in page.text


async def test_wrong_codes_are_rate_limited(device_app: Any) -> None:
    state, http, _ = device_app
    _, body = await new_request(http)
    for _ in range(5):
        wrong = await enter_code(http, "BBBB-BBBB")
        assert wrong.status_code == 400 and "not valid" in wrong.text
    locked = await enter_code(http, body["user_code"])
    assert locked.status_code == 429 and "retry-after" in locked.headers
    assert state.stats["device_wrong_code"] == 5


async def test_decision_needs_the_pages_token_cookie_and_origin(device_app: Any) -> None:
    _, http, _ = device_app
    cid, body = await new_request(http)
    consent = await enter_code(http, body["user_code"])
    token = CSRF.search(consent.text)
    assert token is not None
    code = normalise_user_code(body["user_code"])
    form = {"csrf_token": token.group(1), "user_code": code, "decision": "approve"}
    forged = await http.post("/device/decision", data={**form, "csrf_token": "x" * 32})
    assert forged.status_code == 403
    cross = await http.post("/device/decision", data=form, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    async with asgi_client(http._transport.app) as other_browser:  # type: ignore[attr-defined]
        stolen = await other_browser.post("/device/decision", data=form)
        assert stolen.status_code == 403
        no_cookie = await other_browser.post("/device", data={"csrf_token": token.group(1), "user_code": code})
        assert no_cookie.status_code == 403
    assert (await poll(http, cid, body["device_code"])).json()["error"] == "authorization_pending"
    ok = await http.post("/device/decision", data=form)
    assert ok.status_code == 200
    replay = await http.post("/device/decision", data=form)
    assert replay.status_code == 403  # the consent token was used up


async def test_pages_escape_and_refuse_framing(device_app: Any) -> None:
    _, http, _ = device_app
    client = await register_public_client(http, BASE_URL, client_name='Bob "the" & Co')
    body = (await start(http, client["client_id"])).json()
    page = await http.get("/device", params={"user_code": '"><img src=x>'})
    assert '"><img' not in page.text and "&quot;&gt;&lt;img" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    consent = await enter_code(http, body["user_code"])
    assert "Bob &quot;the&quot; &amp; Co" in consent.text
    assert consent.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("typed", ["", "BCDF", "BCDF-GHJKL", "AEIO-UAEI", "BCDF-GHJ1"])
def test_normalise_refuses_what_cannot_be_a_code(typed: str) -> None:
    assert normalise_user_code(typed) is None
