"""The CLIENT items (1-15) of the security catalogue (audits/README.md lists them with their tests), one or more tests each.

Test names start with ``test_catalogue_client_<n>_`` so audits can cite them.
Most run the real ``OAuthClient`` against the scripted server of ``_fakes``
(which can play a hostile AS); item 1 also runs the real loopback listener.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import ssl
from contextlib import aclosing
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from mcp_auth_desktop.core import oauth
from mcp_auth_desktop.core.errors import (
    CallbackError,
    ConfigurationError,
    InsecureUrlError,
    InvalidGrantError,
    InvalidJsonError,
    McpAuthError,
    MetadataError,
    ResponseTooLargeError,
    SignInRequiredError,
    StateMismatchError,
    TemporarilyUnavailableError,
    TokenResponseError,
)
from mcp_auth_desktop.core.flow import AuthorizationBudget, OAuthClient, step_up_scopes
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.models import (
    AuthServerMetadata,
    ClientRegistration,
    Discovery,
    ServerOptions,
)
from tests.start_page import through_start_page

from ._fakes import ISSUER, MCP, FakeAS, FakeListener, default_as_doc, make_client, server
from ._helpers import FakeClock, public_resolver


async def _sign_in(fake: FakeAS, *, tamper: Any = None, srv: Any = None) -> tuple[Any, ...]:
    srv = srv or server()
    http = fake.client()
    client, browser = make_client(fake, http, tamper=tamper)
    try:
        d = await client.discover(srv)
        reg, tokens = await client.sign_in(srv, d, None, scopes=client.select_scopes(srv, d))
    finally:
        await http.aclose()
    return client, browser, d, reg, tokens


def _no_token_request(fake: FakeAS) -> bool:
    return not any(r.url.path == "/token" for r in fake.requests)


# ---------------------------------------------------------------- 1. CSRF via state


@pytest.mark.parametrize("tamper", [
    lambda p: {**p, "state": "attacker-state-0123456789abcdef"},
    lambda p: {k: v for k, v in p.items() if k != "state"},
    lambda p: {**p, "state": p["state"][:-1]},
])
async def test_catalogue_client_1_wrong_or_missing_state_aborts_before_token_request(tamper: Any) -> None:
    fake = FakeAS()
    with pytest.raises(CallbackError, match="state"):
        await _sign_in(fake, tamper=tamper)
    assert _no_token_request(fake)


async def test_catalogue_client_1_state_of_a_finished_flow_is_rejected() -> None:
    fake = FakeAS()
    _, browser, *_ = await _sign_in(fake)
    old_state = dict(parse_qsl(urlsplit(browser.opened[0]).query))["state"]
    before = len(fake.forms("/token"))
    with pytest.raises(CallbackError):
        await _sign_in(fake, tamper=lambda p: {**p, "state": old_state})
    assert len(fake.forms("/token")) == before


async def test_catalogue_client_1_state_is_fresh_and_at_least_128_bits() -> None:
    fake = FakeAS()
    states = []
    for _ in range(3):
        _, browser, *_ = await _sign_in(fake)
        states.append(dict(parse_qsl(urlsplit(browser.opened[0]).query))["state"])
    assert len(set(states)) == 3 and all(len(s) >= 22 for s in states)  # 22 b64 chars >= 128 bits


@pytest.mark.parametrize("forged", [{"code": "evil", "state": "guess"}, {"code": "evil"}])
async def test_catalogue_client_1_real_listener_ends_the_sign_in_on_a_forged_callback(
    forged: dict[str, str],
) -> None:
    """Issue 12: a callback with a wrong or missing state stops the sign-in at once
    (typed StateMismatchError, no token request), instead of waiting out the timeout."""
    from mcp_auth_desktop.core.loopback import LoopbackListener

    fake = FakeAS()
    async with aclosing(fake.client()) as http:
        forged_pages: list[tuple[int, str]] = []

        class Browser:
            async def open(self, url: str) -> None:
                q = dict(parse_qsl(urlsplit(await through_start_page(url)).query))
                async with httpx.AsyncClient(trust_env=False) as b:
                    # another local process (or a CSRF page) delivers its own response
                    r = await b.get(q["redirect_uri"], params=forged)
                    forged_pages.append((r.status_code, r.text))

        client = OAuthClient(http, clock=FakeClock(), browser=Browser(), resolver=public_resolver,
                             listener_factory=lambda **kw: LoopbackListener(**kw))
        d = await client.discover(server())
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(StateMismatchError) as info:
            await client.sign_in(server(), d, None, scopes=())
        assert loop.time() - t0 < 5  # at once, not after the 300 s authorization timeout
    assert "state" in info.value.user_message and "cross-site request forgery" in info.value.user_message
    [(status, page)] = forged_pages
    assert status == 400 and "cross-site request forgery" in page and "evil" not in page
    assert fake.forms("/token") == []


# ---------------------------------------------------------------- 2. mix-up via iss


async def test_catalogue_client_2_iss_absent_while_advertised() -> None:
    fake = FakeAS(send_iss=False)
    with pytest.raises(CallbackError, match="iss"):
        await _sign_in(fake)
    assert _no_token_request(fake)


@pytest.mark.parametrize("advertised", [True, False])
async def test_catalogue_client_2_iss_from_another_issuer(advertised: bool) -> None:
    fake = FakeAS(iss_value="https://evil.example.com")
    assert fake.as_doc is not None
    fake.as_doc["authorization_response_iss_parameter_supported"] = advertised
    with pytest.raises(CallbackError, match="different authorization server"):
        await _sign_in(fake)
    assert _no_token_request(fake)


@pytest.mark.parametrize("variant", ["HTTPS://auth.example.com", "https://AUTH.example.com", "https://auth.example.com:443",
                                     "https://auth.example.com/", "https://auth.exa%6Dple.com"])
async def test_catalogue_client_2_byte_variants_of_the_issuer_are_rejected(variant: str) -> None:
    fake = FakeAS(iss_value=variant)
    with pytest.raises(CallbackError):
        await _sign_in(fake)
    assert _no_token_request(fake)


async def test_catalogue_client_2_error_response_with_wrong_iss_shows_nothing() -> None:
    fake = FakeAS()
    tamper = lambda p: {"state": p["state"], "iss": "https://evil.example.com", "error": "access_denied",  # noqa: E731
                        "error_description": "Call +1-555 PHISHING"}
    with pytest.raises(CallbackError) as info:
        await _sign_in(fake, tamper=tamper)
    listener = FakeListener.instances[-1]
    shown = str(info.value) + " ".join(m for _, m in listener.reports)
    assert "PHISHING" not in shown and "access_denied" not in shown


# ---------------------------------------------------------------- 3. forged AS metadata


@pytest.mark.parametrize("doc_change", [
    {"issuer": "https://honest.example.com"},
    {"issuer": ISSUER + "/other-tenant"},
    {"issuer": "http://auth.example.com"},
    {"code_challenge_methods_supported": None},
    {"code_challenge_methods_supported": ["plain"]},
    {"token_endpoint": ["https://auth.example.com/token"]},
])
async def test_catalogue_client_3_forged_or_unsafe_as_metadata_is_not_used(doc_change: dict[str, Any]) -> None:
    doc = {**default_as_doc(), **doc_change}
    fake = FakeAS(as_doc={k: v for k, v in doc.items() if v is not None})
    with pytest.raises(MetadataError):
        await _sign_in(fake)
    assert not any(r.url.path in ("/authorize", "/register", "/token") for r in fake.requests)


async def test_catalogue_client_3_issuer_with_query_or_fragment_refused() -> None:
    fake = FakeAS()
    fake.prm = {"resource": MCP, "authorization_servers": [ISSUER + "?tenant=x"]}
    with pytest.raises(InsecureUrlError):
        await _sign_in(fake)


# ---------------------------------------------------------------- 4. PRM impersonation, AS migration


@pytest.mark.parametrize("prm", [
    {"resource": "https://evil.example.com/mcp", "authorization_servers": [ISSUER]},
    {"resource": "https://mcp.example.com/other", "authorization_servers": [ISSUER]},
    {"resource": MCP, "authorization_servers": []},
    {"resource": MCP, "authorization_servers": ["http://auth.example.com"]},
])
async def test_catalogue_client_4_bad_prm_stops_before_authorization(prm: dict[str, Any]) -> None:
    fake = FakeAS(prm=prm)
    with pytest.raises((MetadataError, InsecureUrlError)):
        await _sign_in(fake)
    assert not any(r.url.host == "auth.example.com" for r in fake.requests)


async def test_catalogue_client_4_as_migration_never_reuses_credentials() -> None:
    fake = FakeAS()
    client, _, d, reg, tokens = await _sign_in(fake)
    new_iss = "https://auth.example.com/new"
    fake.prm = {"resource": MCP, "authorization_servers": [new_iss]}
    fake.as_doc = {**default_as_doc(new_iss), "registration_endpoint": ISSUER + "/register"}
    fake.as_paths = ("/.well-known/oauth-authorization-server/new",)
    async with aclosing(fake.client()) as http:
        client2, _ = make_client(fake, http)
        d2 = await client2.discover(server())
        assert d2.auth_server.issuer == new_iss
        with pytest.raises(SignInRequiredError):
            await client2.refresh(d2, reg, tokens, resource=MCP)
        reg2 = await client2.ensure_client(server(), d2, reg, redirect_uri="http://127.0.0.1:54321/callback")
    assert reg2.issuer == new_iss and reg2.client_id != reg.client_id and fake.registrations == 2


# ---------------------------------------------------------------- 5. SSRF during discovery


@pytest.mark.parametrize("target", [
    "https://169.254.169.254/latest", "https://10.0.0.1/", "https://172.16.0.1/", "https://192.168.1.1/",
    "https://100.64.0.1/", "https://127.0.0.1/", "https://0.0.0.0/", "https://[::1]/", "https://[fc00::1]/",
    "https://[fe80::1]/", "https://[::ffff:169.254.169.254]/", "https://2852039166/", "https://0251.0376.0251.0376/",
])
async def test_catalogue_client_5_ssrf_targets_are_never_requested(target: str) -> None:
    fake = FakeAS()
    fake.prm = {"resource": MCP, "authorization_servers": [target.rstrip("/")]}
    with pytest.raises(InsecureUrlError):
        await _sign_in(fake)
    assert all(r.url.host in ("mcp.example.com",) for r in fake.requests)


async def test_catalogue_client_5_rebinding_name_and_redirect_hop_are_checked() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"rebind.example": ["93.184.216.34", "169.254.169.254"]}.get(host, ["93.184.216.34"])

    fake = FakeAS()
    fake.prm = {"resource": MCP, "authorization_servers": ["https://rebind.example"]}
    async with aclosing(fake.client()) as http:
        client = OAuthClient(http, clock=FakeClock(), resolver=resolver, listener_factory=FakeListener)
        with pytest.raises(InsecureUrlError):
            await client.discover(server())
    fake2 = FakeAS()
    fake2.extra_routes[("GET", "https://auth.example.com/.well-known/oauth-authorization-server")] = (
        lambda r: httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"}))
    with pytest.raises((InsecureUrlError, McpAuthError)):
        await _sign_in(fake2)
    assert not any(r.url.host == "169.254.169.254" for r in fake2.requests)


async def test_catalogue_client_5_loopback_allowed_only_when_server_is_loopback() -> None:
    fake = FakeAS()
    fake.prm = {"resource": MCP, "authorization_servers": ["https://localhost:9443"]}
    with pytest.raises(InsecureUrlError, match="loopback"):
        await _sign_in(fake)


# ---------------------------------------------------------------- 6. non-TLS endpoints


@pytest.mark.parametrize("endpoint", ["http://auth.example.com/token", "http://127.0.0.1.nip.io/token",
                                      "http://localhost.evil.com/token", "http://127.0.0.1/token"])
async def test_catalogue_client_6_plain_http_token_endpoint_refused_before_sending_secrets(endpoint: str) -> None:
    fake = FakeAS(as_doc={**default_as_doc(), "token_endpoint": endpoint})
    with pytest.raises(InsecureUrlError):
        await _sign_in(fake)
    assert not any(r.url.path.endswith("/token") for r in fake.requests)
    # and a stored discovery with such an endpoint is refused at refresh time too
    d = Discovery(resource=MCP, auth_server=AuthServerMetadata(
        issuer=ISSUER, authorization_endpoint=ISSUER + "/authorize", token_endpoint=endpoint,
        code_challenge_methods_supported=("S256",)))
    reg = ClientRegistration(issuer=ISSUER, client_id="c", method="dcr")
    from mcp_auth_desktop.core.models import TokenSet
    async with aclosing(fake.client()) as http:
        client, _ = make_client(fake, http)
        client._options[MCP] = ServerOptions()  # the user's rules are known
        with pytest.raises(InsecureUrlError):
            await client.refresh(d, reg, TokenSet(access_token="a", refresh_token="SECRET-RT"), resource=MCP)
    assert all(b"SECRET-RT" not in b for b in fake.bodies)


async def test_catalogue_client_6_tls_verification_cannot_be_switched_off_by_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONHTTPSVERIFY", "0")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    async with make_http_client() as http:
        pool = http._transport.inner._pool  # type: ignore[attr-defined]
        ctx: ssl.SSLContext = pool._ssl_context
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


# ---------------------------------------------------------------- 7. hostile authorization URL


@pytest.mark.parametrize("endpoint", ["javascript:alert(1)//", "data:text/html,x", "file:///etc/passwd", "vbscript:x",
                                      "https://auth.example.com/a?$(touch /tmp/x)", 'https://auth.example.com/a"b',
                                      "https://auth.example.com/a`id`"])
async def test_catalogue_client_7_browser_never_called_with_a_hostile_authorization_url(endpoint: str) -> None:
    fake = FakeAS()
    async with aclosing(fake.client()) as http:
        client, browser = make_client(fake, http)
        d = await client.discover(server())
        evil = replace(d, auth_server=replace(d.auth_server, authorization_endpoint=endpoint))
        with pytest.raises(InsecureUrlError):
            await client.sign_in(server(), evil, None, scopes=())
        assert browser.opened == []


# ---------------------------------------------------------------- 8. oversized / pathological JSON


def _bodies() -> list[tuple[str, httpx.Response, type[Exception]]]:
    j = {"content-type": "application/json"}
    return [
        ("50MB", httpx.Response(200, content=b'{"a":"' + b"x" * 50_000_000 + b'"}', headers=j), ResponseTooLargeError),
        ("gzip-bomb", httpx.Response(200, content=gzip.compress(b"[" + b" " * 30_000_000 + b"]"),
                                     headers={**j, "content-encoding": "gzip"}), ResponseTooLargeError),
        ("deep", httpx.Response(200, content=b"[" * 10_000 + b"]" * 10_000, headers=j), InvalidJsonError),
        ("nan", httpx.Response(200, content=b'{"access_token":"a","token_type":"Bearer","expires_in":NaN}', headers=j), InvalidJsonError),
        ("bigint", httpx.Response(200, content=b'{"expires_in":' + b"9" * 10_000 + b"}", headers=j), InvalidJsonError),
        ("dup", httpx.Response(200, content=b'{"access_token":"a","access_token":"b","token_type":"Bearer"}', headers=j), InvalidJsonError),
        ("array", httpx.Response(200, content=b"[1]", headers=j), InvalidJsonError),
        ("html", httpx.Response(200, content=b"<html></html>", headers={"content-type": "text/html"}), InvalidJsonError),
    ]


@pytest.mark.parametrize(("name", "response", "exc"), _bodies(), ids=[b[0] for b in _bodies()])
async def test_catalogue_client_8_pathological_token_bodies_give_one_typed_error(name: str, response: httpx.Response, exc: type[Exception]) -> None:
    fake = FakeAS()
    client, _, d, reg, tokens = await _sign_in(fake)
    fake.extra_routes[("POST", ISSUER + "/token")] = lambda r: response
    async with aclosing(fake.client()) as http:
        client2, _ = make_client(fake, http)
        with pytest.raises(exc):
            await client2.refresh(d, reg, tokens, resource=MCP)


async def test_catalogue_client_8_duplicate_issuer_in_metadata_is_not_used() -> None:
    fake = FakeAS()
    fake.extra_routes[("GET", ISSUER + "/.well-known/oauth-authorization-server")] = lambda r: httpx.Response(
        200, content=b'{"issuer":"https://auth.example.com","issuer":"https://evil.example.com"}',
        headers={"content-type": "application/json"})
    with pytest.raises(McpAuthError):
        await _sign_in(fake)
    assert not any(r.url.path == "/authorize" for r in fake.requests)


# ---------------------------------------------------------------- 9. token responses with bad meaning


async def test_catalogue_client_9_token_response_semantics() -> None:
    fake = FakeAS()
    client, _, d, reg, tokens = await _sign_in(fake)
    async with aclosing(fake.client()) as http:
        c, _ = make_client(fake, http)
        fake.token_responses.append((200, {"error": "invalid_grant", "access_token": "x", "token_type": "Bearer"}, {}))
        with pytest.raises(InvalidGrantError):
            await c.refresh(d, reg, tokens, resource=MCP)
        fake.token_responses.append((200, {"access_token": "x", "token_type": "mac"}, {}))
        with pytest.raises(TokenResponseError):
            await c.refresh(d, reg, tokens, resource=MCP)
        fake.token_responses.append((200, {"access_token": "x"}, {}))
        with pytest.raises(TokenResponseError):
            await c.refresh(d, reg, tokens, resource=MCP)
        fake.token_responses.append((200, {"access_token": "x", "token_type": "bEARER", "expires_in": -5}, {}))
        new = await c.refresh(d, reg, tokens, resource=MCP)
        assert new.token_type == "Bearer" and new.refresh_token == tokens.refresh_token
        assert new.expires_at == FakeClock().now + 1 and new.scope == tokens.scope
        fake.token_responses.append((200, {"access_token": "y", "token_type": "Bearer", "expires_in": 1e308, "refresh_token": "rot"}, {}))
        new2 = await c.refresh(d, reg, new, resource=MCP)
        assert new2.refresh_token == "rot" and new2.expires_at == FakeClock().now + oauth.MAX_EXPIRES_IN


# ---------------------------------------------------------------- 10. audience / resource


async def test_catalogue_client_10_each_server_gets_its_own_resource_everywhere() -> None:
    fake = FakeAS()
    fake.prm = None
    b_url = "https://mcp.example.com/b"
    fake.extra_routes[("GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp")] = (
        lambda r: httpx.Response(200, json={"resource": MCP, "authorization_servers": [ISSUER]}))
    fake.extra_routes[("GET", "https://mcp.example.com/.well-known/oauth-protected-resource/b")] = (
        lambda r: httpx.Response(200, json={"resource": b_url, "authorization_servers": [ISSUER]}))
    _, browser_a, d_a, reg_a, tok_a = await _sign_in(fake)
    _, browser_b, d_b, reg_b, tok_b = await _sign_in(fake, srv=server(b_url))
    assert tok_a.resource == MCP and tok_b.resource == b_url
    assert dict(parse_qsl(urlsplit(browser_b.opened[0]).query))["resource"] == b_url
    assert [f["resource"] for f in fake.forms("/token")] == [MCP, b_url]
    async with aclosing(fake.client()) as http:
        c, _ = make_client(fake, http)
        await c.refresh(d_b, reg_b, tok_b, resource=c.resource_for(server(b_url), d_b))
    assert fake.forms("/token")[-1]["resource"] == b_url


# ---------------------------------------------------------------- 11. step-up loops


def test_catalogue_client_11_step_up_is_a_bounded_union() -> None:
    assert step_up_scopes(("files:read",), ("files:write",)) == ("files:read", "files:write")
    budget = AuthorizationBudget(limit=3)
    budget.take(), budget.take(), budget.take()
    with pytest.raises(SignInRequiredError):
        budget.take()


@pytest.mark.parametrize("scope", ['files:"write', "files\\x", "a b", "x" * 5000])
async def test_catalogue_client_11_hostile_challenged_scope_is_refused(scope: str) -> None:
    fake = FakeAS()
    async with aclosing(fake.client()) as http:
        client, browser = make_client(fake, http)
        d = await client.discover(server())
        scopes = client.select_scopes(server(), d, challenged=(scope,))
        if len(scope) > 4096:
            fake.prm = {"resource": MCP, "authorization_servers": [ISSUER], "scopes_supported": [scope]}
            with pytest.raises(MetadataError):
                await client.discover(server())
        else:
            with pytest.raises(ConfigurationError):
                await client.sign_in(server(), d, None, scopes=scopes)
            assert browser.opened == []


# ---------------------------------------------------------------- 12. 429/503 + Retry-After


@pytest.mark.parametrize(("status", "retry_after", "expected"), [
    (429, "5", 5.0), (503, "1000000000", 300.0), (503, "-1", None), (503, None, None),
    (429, "Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
async def test_catalogue_client_12_transient_errors_keep_tokens_and_cap_retry_after(status: int, retry_after: str | None, expected: float | None) -> None:
    fake = FakeAS()
    client, _, d, reg, tokens = await _sign_in(fake)
    headers = {"Retry-After": retry_after} if retry_after else {}
    fake.token_responses.append((status, None, headers))
    async with aclosing(fake.client()) as http:
        c, _ = make_client(fake, http)
        with pytest.raises(TemporarilyUnavailableError) as info:
            await c.refresh(d, reg, tokens, resource=MCP)
        assert info.value.transient and info.value.retry_after == expected
        # the refresh token is still good: the next try succeeds with it
        assert (await c.refresh(d, reg, tokens, resource=MCP)).access_token
        assert fake.forms("/token")[-1]["refresh_token"] == tokens.refresh_token


async def test_catalogue_client_12_revocation_503_is_reported_for_a_later_retry() -> None:
    fake = FakeAS(revoke_status=503)
    client, _, d, reg, tokens = await _sign_in(fake)
    async with aclosing(fake.client()) as http:
        c, _ = make_client(fake, http)
        report = await c.revoke(d, reg, tokens)
    assert report.supported and not report.refresh_token_revoked and report.errors


# ---------------------------------------------------------------- 13. refresh races (core part)


async def test_catalogue_client_13_core_sends_exactly_one_request_per_refresh_and_never_retries() -> None:
    # Single flight lives in the manager; the core must not multiply requests behind its back.
    fake = FakeAS()
    client, _, d, reg, tokens = await _sign_in(fake)
    before = len(fake.forms("/token"))
    fake.token_responses.append((503, None, {}))
    async with aclosing(fake.client()) as http:
        c, _ = make_client(fake, http)
        with pytest.raises(TemporarilyUnavailableError):
            await c.refresh(d, reg, tokens, resource=MCP)
        fake.token_responses.append((400, {"error": "invalid_grant"}, {}))
        with pytest.raises(InvalidGrantError):
            await c.refresh(d, reg, tokens, resource=MCP)
    assert len(fake.forms("/token")) == before + 2


# ---------------------------------------------------------------- 14. clock skew


async def test_catalogue_client_14_expiry_is_local_receipt_time_plus_expires_in() -> None:
    jwt_like = "eyJhbGciOiJub25lIn0.eyJleHAiOjEwMDB9."  # exp=1000: far in the past
    fake = FakeAS()
    fake.token_responses.append((200, {"access_token": jwt_like, "token_type": "Bearer", "expires_in": 600},
                                 {"Date": "Mon, 01 Jan 2001 00:00:00 GMT"}))
    _, _, _, _, tokens = await _sign_in(fake)
    assert tokens.access_token == jwt_like
    assert tokens.issued_at == FakeClock().now and tokens.expires_at == FakeClock().now + 600


# ---------------------------------------------------------------- 15. token leakage in logs


async def test_catalogue_client_15_no_secret_in_any_log_line_or_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeAS(code_prefix="CANARYCODE")
    fake.registration_responses.append((201, {"client_id": "cid", "client_secret": "CANARYSECRET",
                                              "token_endpoint_auth_method": "client_secret_post",
                                              "registration_access_token": "CANARYRAT",
                                              "registration_client_uri": ISSUER + "/register/cid"}))
    fake.token_responses.append((200, {"access_token": "CANARYAT1", "token_type": "Bearer", "refresh_token": "CANARYRT1"}, {}))
    client, _, d, reg, tokens = await _sign_in(fake)
    verifier = fake.forms("/token")[0]["code_verifier"]
    errors_seen: list[str] = []
    async with aclosing(fake.client()) as http:
        c, _ = make_client(fake, http)
        fake.token_responses.append((400, {"error": "invalid_grant", "error_description": "bad CANARYRT1\n[auth] forged"}, {}))
        try:
            await c.refresh(d, reg, tokens, resource=MCP)
        except McpAuthError as exc:
            errors_seen += [str(exc), repr(exc), exc.user_message]
        fake.token_responses.append((200, {"access_token": "CANARYAT2", "token_type": "Bearer"}, {}))
        new = await c.refresh(d, reg, tokens, resource=MCP)
        await c.revoke(d, reg, new)
        await c.delete_registration(reg)
    text = caplog.text + " ".join(errors_seen) + repr(reg) + repr(tokens) + repr(new) + repr(d)
    for canary in ("CANARYCODE", "CANARYSECRET", "CANARYRAT", "CANARYAT1", "CANARYAT2", verifier):
        assert canary not in text, canary
    # server text cannot forge a log line
    assert not any("\n[auth] forged" in e for e in errors_seen)
    assert any("forged" in e for e in errors_seen)
