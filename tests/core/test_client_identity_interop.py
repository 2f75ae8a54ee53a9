"""Client identity as real authorization servers need it (issue 12, items 2-5).

Scripted AS (MockTransport), fake listener and browser: the registration carries the
scopes the sign-in requests, a step-up beyond them registers again, the callback listens
on the port the registration was made for (and registers again when it is taken), and
token and revocation requests with ``client_secret_basic`` carry ``client_id`` in the
body as well as the header.
"""

from __future__ import annotations

import base64
import json
from contextlib import aclosing
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mcp_auth_desktop.core.errors import ConfigurationError
from mcp_auth_desktop.core.models import ClientRegistration, TokenSet

from ._fakes import ISSUER, FakeAS, FakeListener, default_as_doc, make_client, server

REMEMBERED = "http://127.0.0.1:50000/callback"


def _registered_bodies(fake: FakeAS) -> list[dict[str, Any]]:
    return [json.loads(b) for r, b in zip(fake.requests, fake.bodies, strict=True)
            if r.url.path == "/register" and r.method == "POST"]


async def test_dcr_registers_the_scopes_the_sign_in_requests() -> None:
    fake = FakeAS()
    async with fake.client() as http:
        client, browser = make_client(fake, http)
        d = await client.discover(server())
        scopes = client.select_scopes(server(), d)
        reg, _ = await client.sign_in(server(), d, None, scopes=scopes)
    assert scopes == ("files:read", "offline_access")
    assert _registered_bodies(fake)[0]["scope"] == "files:read offline_access"
    assert reg.scope == scopes
    q = dict(parse_qsl(urlsplit(browser.opened[0]).query))
    assert q["scope"] == "files:read offline_access"


async def test_registered_scope_round_trips_through_storage_form() -> None:
    reg = ClientRegistration(issuer=ISSUER, client_id="c", method="dcr", scope=("a", "b"))
    assert ClientRegistration.from_dict(reg.to_dict()) == reg
    old = {k: v for k, v in reg.to_dict().items() if k != "scope"}  # stored before this change
    assert ClientRegistration.from_dict(old).scope == ()


async def test_step_up_beyond_the_registered_scopes_registers_again() -> None:
    fake = FakeAS()
    existing = ClientRegistration(issuer=ISSUER, client_id="old", method="dcr",
                                  redirect_uris=(REMEMBERED,), scope=("files:read",))
    async with fake.client() as http:
        client, _ = make_client(fake, http)
        d = await client.discover(server())
        same, _ = await client.sign_in(server(), d, existing, scopes=("files:read",))
        assert same.client_id == "old" and fake.registrations == 0
        wider, _ = await client.sign_in(server(), d, existing, scopes=("files:read", "files:write"))
    assert wider.client_id != "old" and fake.registrations == 1
    assert _registered_bodies(fake)[0]["scope"] == "files:read files:write"
    # the new registration keeps the callback port of the old one
    assert wider.redirect_uris == (REMEMBERED,)


async def test_sign_in_listens_on_the_port_the_registration_was_made_for() -> None:
    fake = FakeAS()
    existing = ClientRegistration(issuer=ISSUER, client_id="old", method="dcr", redirect_uris=(REMEMBERED,))
    async with fake.client() as http:
        client, browser = make_client(fake, http)
        d = await client.discover(server())
        reg, _ = await client.sign_in(server(), d, existing, scopes=())
    assert FakeListener.instances[-1].port == 50000
    assert reg is existing and fake.registrations == 0
    assert dict(parse_qsl(urlsplit(browser.opened[0]).query))["redirect_uri"] == REMEMBERED


async def test_a_busy_remembered_port_means_a_free_port_and_a_new_registration() -> None:
    fake = FakeAS()
    existing = ClientRegistration(issuer=ISSUER, client_id="old", method="dcr", redirect_uris=(REMEMBERED,))
    asked: list[int] = []

    class BusyFirst(FakeListener):
        async def __aenter__(self) -> FakeListener:
            asked.append(self.port)
            if self.port == 50000:
                raise ConfigurationError("The callback port 50000 is in use by another program.")
            return await super().__aenter__()

    async with fake.client() as http:
        client, browser = make_client(fake, http)
        client._listener_factory = BusyFirst
        d = await client.discover(server())
        reg, tokens = await client.sign_in(server(), d, existing, scopes=())
    assert asked == [50000, 54321]  # the remembered port, then a free one (the fake's 0)
    assert reg.client_id != "old" and reg.redirect_uris == ("http://127.0.0.1:54321/callback",)
    assert tokens.access_token and fake.registrations == 1


async def test_a_busy_port_the_user_fixed_is_reported_not_replaced() -> None:
    from mcp_auth_desktop.core.models import ServerOptions

    fake = FakeAS()

    class Busy(FakeListener):
        async def __aenter__(self) -> FakeListener:
            raise ConfigurationError("The callback port 8765 is in use by another program.")

    async with fake.client() as http:
        client, _ = make_client(fake, http)
        client._listener_factory = Busy
        d = await client.discover(server())
        srv = server(options=ServerOptions(callback_port=8765))
        try:
            await client.sign_in(srv, d, None, scopes=())
        except ConfigurationError as exc:
            assert "8765" in exc.user_message
        else:
            raise AssertionError("a busy fixed port must be reported")
    assert fake.registrations == 0


async def test_re_register_makes_a_new_registration_on_the_same_port() -> None:
    fake = FakeAS()
    existing = ClientRegistration(issuer=ISSUER, client_id="old", method="dcr", redirect_uris=(REMEMBERED,))
    async with fake.client() as http:
        client, browser = make_client(fake, http)
        d = await client.discover(server())
        reg, _ = await client.sign_in(server(), d, existing, scopes=(), re_register=True)
    assert reg.client_id == "client-1" and reg.redirect_uris == (REMEMBERED,)
    assert len(browser.opened) == 1


def _basic(fake: FakeAS, path: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for r, b in zip(fake.requests, fake.bodies, strict=True):
        if r.url.path == path:
            raw = base64.b64decode(r.headers["Authorization"].removeprefix("Basic ")).decode()
            out.append((raw, dict(parse_qsl(b.decode()))))
    return out


async def test_client_secret_basic_token_and_revocation_carry_client_id_in_the_body() -> None:
    # An AS that offers only secret-based methods: the registration gets a secret.
    fake = FakeAS(as_doc={**default_as_doc(), "token_endpoint_auth_methods_supported": ["client_secret_basic"]})
    orig = fake.handle

    def with_secret(request):  # type: ignore[no-untyped-def]
        response = orig(request)
        if request.url.path == "/register":
            doc = response.json()
            return type(response)(201, json={**doc, "client_secret": "s3cret"})
        return response

    fake.handle = with_secret  # type: ignore[method-assign]
    async with aclosing(fake.client()) as http:
        client, _ = make_client(fake, http)
        d = await client.discover(server())
        reg, tokens = await client.sign_in(server(), d, None, scopes=())
        assert reg.token_endpoint_auth_method == "client_secret_basic"
        await client.refresh(d, reg, tokens, resource=None)
        report = await client.revoke(d, reg, TokenSet(access_token="at", refresh_token="rt"))
    assert report.refresh_token_revoked and report.access_token_revoked
    for path, n in (("/token", 2), ("/revoke", 2)):
        seen = _basic(fake, path)
        assert len(seen) == n
        for raw, form in seen:
            assert raw == f"{reg.client_id}:s3cret"
            assert form["client_id"] == reg.client_id and "client_secret" not in form


async def test_dcr_prefers_none_then_post_then_basic_and_follows_the_answer() -> None:
    cases = [
        (["client_secret_basic", "client_secret_post", "none"], "none", "client_secret_post"),
        (["client_secret_basic", "client_secret_post"], "client_secret_post", "client_secret_post"),
        (["client_secret_basic"], "client_secret_basic", "client_secret_post"),
    ]
    for supported, expected, answered in cases:
        fake = FakeAS(as_doc={**default_as_doc(), "token_endpoint_auth_methods_supported": supported})
        # The AS answers with another method than asked: the answer decides (RFC 7591 §3.2.1).
        fake.registration_responses.append((201, {
            "client_id": "c1", "client_secret": "s", "redirect_uris": [REMEMBERED],
            "token_endpoint_auth_method": answered}))
        async with fake.client() as http:
            client, _ = make_client(fake, http)
            d = await client.discover(server())
            reg = await client.ensure_client(server(), d, None, redirect_uri=REMEMBERED)
        assert _registered_bodies(fake)[0]["token_endpoint_auth_method"] == expected
        assert reg.token_endpoint_auth_method == answered and reg.client_secret == "s"


async def test_revocation_refused_for_an_unknown_client_is_reported_once_not_retried() -> None:
    fake = FakeAS(revoke_status=401)  # no body: RFC 6749 §5.2 invalid_client by status
    reg = ClientRegistration(issuer=ISSUER, client_id="forgotten", method="dcr", redirect_uris=(REMEMBERED,))
    async with fake.client() as http:
        client, _ = make_client(fake, http)
        d = await client.discover(server())
        report = await client.revoke(d, reg, TokenSet(access_token="at", refresh_token="rt"))
    assert report.client_unknown and not report.refresh_token_revoked
    assert len(report.errors) == 1 and "no longer knows this app" in report.errors[0]
    assert sum(1 for r in fake.requests if r.url.path == "/revoke") == 1  # stopped at the first answer
    assert fake.registrations == 0  # no registration made for a revocation that cannot succeed
