"""OAuthClient end to end against the scripted AS (MockTransport), fake listener and browser."""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import pytest

from mcp_auth_desktop.core.errors import (
    InvalidClientError,
    InvalidGrantError,
    SignInRequiredError,
    StaleClientError,
    TemporarilyUnavailableError,
)
from mcp_auth_desktop.core.flow import AuthorizationBudget, PendingAuthorization, step_up_scopes
from mcp_auth_desktop.core.models import ClientRegistration, ServerOptions, TokenSet

from ._fakes import ISSUER, MCP, FakeAS, FakeListener, make_client, server
from ._helpers import FakeClock


async def _signed_in(fake: FakeAS, srv=None, scopes=None, **kw):  # type: ignore[no-untyped-def]
    srv = srv or server()
    http = fake.client()
    client, browser = make_client(fake, http, **kw)
    d = await client.discover(srv)
    if scopes is None:
        scopes = client.select_scopes(srv, d)
    reg, tokens = await client.sign_in(srv, d, None, scopes=scopes)
    return http, client, browser, d, reg, tokens


async def test_sign_in_happy_path() -> None:
    fake = FakeAS()
    http, client, browser, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        assert reg.method == "dcr" and reg.issuer == ISSUER
        assert tokens.access_token.startswith("at-") and tokens.refresh_token
        assert tokens.expires_at == FakeClock().now + 3600 and tokens.resource == MCP
        q = dict(parse_qsl(urlsplit(browser.opened[0]).query))
        assert q["code_challenge_method"] == "S256" and q["resource"] == MCP
        assert q["scope"] == "files:read offline_access"
        assert q["redirect_uri"] == "http://127.0.0.1:54321/callback"
        token_form = fake.forms("/token")[0]
        assert token_form["grant_type"] == "authorization_code" and token_form["resource"] == MCP
        assert token_form["redirect_uri"] == q["redirect_uri"] and token_form["code"] == "code-1"
        listener = FakeListener.instances[-1]
        assert listener.states == [q["state"]] and listener.reports and listener.reports[-1][0] is True
        assert not listener.open


async def test_on_authorization_url_replaces_the_browser() -> None:
    fake = FakeAS()
    async with fake.client() as http:
        client, browser = make_client(fake, http)
        d = await client.discover(server())
        seen: list[str] = []

        def deliver(url: str) -> None:
            seen.append(url)
            q = dict(parse_qsl(urlsplit(url).query))
            FakeListener.instances[-1].deliver({"code": "c", "state": q["state"], "iss": ISSUER})

        await client.sign_in(server(), d, None, scopes=(), on_authorization_url=deliver)
        assert len(seen) == 1 and browser.opened == []


async def test_fixed_callback_port_is_used() -> None:
    fake = FakeAS()
    srv = server(options=ServerOptions(callback_port=8765))
    http, *_rest, reg, _ = await _signed_in(fake, srv)
    async with aclosing(http):
        assert reg.redirect_uris == ("http://127.0.0.1:8765/callback",)


async def test_invalid_client_after_approval_never_authorizes_twice() -> None:
    # One sign-in never shows two consent screens: the refused client is reported (in the
    # browser too) as stale, and the next sign-in registers again (the manager marks it).
    fake = FakeAS()
    fake.token_responses.append((401, {"error": "invalid_client"}, {}))
    with pytest.raises(StaleClientError, match="registers this app again") as info:
        await _signed_in(fake)
    assert isinstance(info.value, SignInRequiredError)
    assert fake.registrations == 1 and fake.codes == 1
    assert FakeListener.instances[-1].reports[-1][0] is False
    assert "registers this app again" in FakeListener.instances[-1].reports[-1][1]


async def test_invalid_client_with_a_client_the_user_entered_is_not_called_stale() -> None:
    fake = FakeAS()
    fake.token_responses.append((401, {"error": "invalid_client"}, {}))
    with pytest.raises(InvalidClientError):
        await _signed_in(fake, server(client_id="pre"))
    assert fake.registrations == 0


async def test_resource_override_and_omit() -> None:
    fake = FakeAS()
    http, *_ = await _signed_in(fake, server(options=ServerOptions(resource_override="https://api.example.com")))
    await http.aclose()
    assert fake.forms("/token")[0]["resource"] == "https://api.example.com"
    fake2 = FakeAS()
    http2, _, browser, *_ = await _signed_in(fake2, server(options=ServerOptions(omit_resource=True)))
    await http2.aclose()
    assert "resource" not in fake2.forms("/token")[0]
    assert "resource=" not in browser.opened[0]


async def test_refresh_keeps_old_refresh_token_when_none_returned() -> None:
    fake = FakeAS()
    http, client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        fake.token_responses.append((200, {"access_token": "new-at", "token_type": "Bearer", "expires_in": 60}, {}))
        new = await client.refresh(d, reg, tokens, resource=MCP)
        assert new.access_token == "new-at" and new.refresh_token == tokens.refresh_token
        assert new.scope == tokens.scope
        form = fake.forms("/token")[-1]
        assert form == {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token, "resource": MCP, "client_id": reg.client_id}


async def test_refresh_replaces_rotated_refresh_token() -> None:
    fake = FakeAS()
    http, client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        fake.token_responses.append((200, {"access_token": "a2", "token_type": "Bearer", "refresh_token": "rt-rotated"}, {}))
        assert (await client.refresh(d, reg, tokens, resource=MCP)).refresh_token == "rt-rotated"


async def test_refresh_invalid_grant_and_transient_errors() -> None:
    fake = FakeAS()
    http, client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        fake.token_responses.append((400, {"error": "invalid_grant"}, {}))
        with pytest.raises(InvalidGrantError):
            await client.refresh(d, reg, tokens, resource=MCP)
        fake.token_responses.append((503, None, {"Retry-After": "12"}))
        with pytest.raises(TemporarilyUnavailableError) as info:
            await client.refresh(d, reg, tokens, resource=MCP)
        assert info.value.transient and info.value.retry_after == 12.0


async def test_refresh_without_refresh_token_or_with_foreign_client() -> None:
    fake = FakeAS()
    http, client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        with pytest.raises(SignInRequiredError):
            await client.refresh(d, reg, replace(tokens, refresh_token=None), resource=MCP)
        with pytest.raises(SignInRequiredError):
            await client.refresh(d, replace(reg, issuer="https://other"), tokens, resource=MCP)


async def test_refresh_after_restart_uses_stored_endpoints() -> None:
    fake = FakeAS()
    http, _client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        fresh, _ = make_client(fake, http)  # a new OAuthClient knows no options
        new = await fresh.refresh(d, reg, tokens, resource=MCP)
        assert new.access_token


async def test_revoke_refresh_token_first_then_access_token() -> None:
    fake = FakeAS()
    http, client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        report = await client.revoke(d, reg, tokens)
        assert report.supported and report.refresh_token_revoked and report.access_token_revoked and not report.errors
        forms = fake.forms("/revoke")
        assert [f["token_type_hint"] for f in forms] == ["refresh_token", "access_token"]
        assert forms[0]["token"] == tokens.refresh_token and forms[1]["token"] == tokens.access_token


async def test_revoke_failure_is_reported_not_raised() -> None:
    fake = FakeAS(revoke_status=503)
    http, client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        report = await client.revoke(d, reg, tokens)
        assert report.supported and not report.refresh_token_revoked and len(report.errors) == 2


async def test_revoke_without_endpoint() -> None:
    fake = FakeAS()
    http, client, _, d, reg, tokens = await _signed_in(fake)
    async with aclosing(http):
        d2 = replace(d, auth_server=replace(d.auth_server, revocation_endpoint=None))
        report = await client.revoke(d2, reg, tokens)
        assert report.supported is False and "local only" in report.summary()


async def test_delete_registration_through_client() -> None:
    fake = FakeAS()
    http, client, _, _d, reg, _t = await _signed_in(fake)
    async with aclosing(http):
        assert await client.delete_registration(reg)
        assert not await client.delete_registration(ClientRegistration(issuer=ISSUER, client_id="x", method="cimd"))


async def test_select_scopes_via_client() -> None:
    fake = FakeAS()
    async with fake.client() as http:
        client, _ = make_client(fake, http)
        d = await client.discover(server())
        assert client.select_scopes(server(), d) == ("files:read", "offline_access")
        assert client.select_scopes(server(), d, previous=("files:read",), challenged=("files:write",)) == (
            "files:read", "files:write", "offline_access")
        assert client.resource_for(server(), d) == MCP


def test_step_up_helpers() -> None:
    assert step_up_scopes(("a",), ("b", "a")) == ("a", "b")
    budget = AuthorizationBudget(limit=3)
    for _ in range(3):
        budget.take()
    assert budget.exhausted
    with pytest.raises(SignInRequiredError):
        budget.take()


def test_pending_authorization_repr_hides_secrets() -> None:
    from mcp_auth_desktop.core.models import AuthServerMetadata, Discovery

    d = Discovery(resource=MCP, auth_server=AuthServerMetadata(issuer=ISSUER, authorization_endpoint=ISSUER + "/a",
                                                               token_endpoint=ISSUER + "/t", code_challenge_methods_supported=("S256",)))
    p = PendingAuthorization.new(d, "http://127.0.0.1:1/cb", MCP, ())
    assert p.state not in repr(p) and p.code_verifier not in repr(p) and p.issuer in repr(p)
    assert len(p.code_challenge) == 43


def test_tokenset_with_refresh_semantics() -> None:
    old = TokenSet(access_token="a", refresh_token="r")
    assert old.with_refresh(TokenSet(access_token="b")).refresh_token == "r"
