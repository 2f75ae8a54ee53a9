"""Client identity: pre-registered, CIMD, DCR, issuer binding, RFC 7592 delete."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mcp_auth_desktop.core import registration as reg_mod
from mcp_auth_desktop.core.discovery import discover
from mcp_auth_desktop.core.errors import ConfigurationError, RegistrationError
from mcp_auth_desktop.core.models import ClientRegistration, Discovery, ServerConfig, ServerOptions

from ._fakes import ISSUER, FakeAS, server
from ._helpers import FakeClock, guard, public_resolver

REDIRECT = "http://127.0.0.1:50000/callback"


async def _ensure(fake: FakeAS, srv: ServerConfig, existing: ClientRegistration | None = None,
                  redirect_uri: str | None = REDIRECT, secret: str | None = None) -> tuple[ClientRegistration, Discovery]:
    async with fake.client() as http:
        d = await discover(http, srv, clock=FakeClock(), resolver=public_resolver)
        reg = await reg_mod.ensure_client(http, srv, d, existing, guard=guard(), clock=FakeClock(),
                                          client_name="MCP Auth Desktop", client_secret=secret, redirect_uri=redirect_uri)
    return reg, d


def test_redirect_uri_covered() -> None:
    reg = ("http://127.0.0.1:5000/callback",)
    assert reg_mod.redirect_uri_covered(reg, "http://127.0.0.1:5000/callback")
    assert reg_mod.redirect_uri_covered(reg, "http://127.0.0.1:6000/callback")  # RFC 8252 §7.3
    assert not reg_mod.redirect_uri_covered(reg, "http://127.0.0.1:6000/other")
    assert not reg_mod.redirect_uri_covered(reg, "http://localhost:6000/callback")
    assert not reg_mod.redirect_uri_covered(("http://localhost:5000/callback",), "http://localhost:6000/callback")
    assert reg_mod.redirect_uri_covered(reg, None)


async def test_dcr_registers_a_native_client() -> None:
    fake = FakeAS()
    reg, _ = await _ensure(fake, server())
    assert reg.method == "dcr" and reg.issuer == ISSUER and reg.client_id == "client-1"
    assert reg.registration_access_token == "rat-1"
    sent = json.loads(fake.bodies[-1])
    assert sent["application_type"] == "native"
    assert sent["redirect_uris"] == [REDIRECT]
    assert "refresh_token" in sent["grant_types"] and sent["token_endpoint_auth_method"] == "none"


async def test_dcr_requests_the_only_method_the_as_supports() -> None:
    fake = FakeAS()
    assert fake.as_doc is not None
    fake.as_doc["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    fake.registration_responses.append((201, {"client_id": "c", "client_secret": "s", "token_endpoint_auth_method": "client_secret_post"}))
    reg, _ = await _ensure(fake, server())
    assert json.loads(fake.bodies[-1])["token_endpoint_auth_method"] == "client_secret_post"
    assert reg.token_endpoint_auth_method == "client_secret_post" and reg.client_secret == "s"


async def test_dcr_rejection_is_a_registration_error_with_the_reason() -> None:
    fake = FakeAS()
    fake.registration_responses.append((400, {"error": "invalid_redirect_uri", "error_description": "https only"}))
    with pytest.raises(RegistrationError, match="https only"):
        await _ensure(fake, server())


async def test_existing_dcr_reused_only_for_its_own_redirect_uri() -> None:
    # Many authorization servers compare redirect_uri exactly (the TypeScript SDK's demo
    # server, FastMCP): a registration made for one port is not used with another.
    fake = FakeAS()
    first, _ = await _ensure(fake, server())
    same, _ = await _ensure(fake, server(), existing=first, redirect_uri=REDIRECT)
    assert same is first and fake.registrations == 1
    other, _ = await _ensure(fake, server(), existing=first, redirect_uri="http://127.0.0.1:60000/callback")
    assert other.client_id != first.client_id and fake.registrations == 2
    assert other.redirect_uris == ("http://127.0.0.1:60000/callback",)


async def test_existing_registration_at_another_issuer_is_never_reused() -> None:
    fake = FakeAS()
    foreign = ClientRegistration(issuer="https://old-as.example.com", client_id="old", method="dcr", redirect_uris=(REDIRECT,))
    reg, _ = await _ensure(fake, server(), existing=foreign)
    assert reg.client_id == "client-1" and reg.issuer == ISSUER


async def test_expired_secret_triggers_new_registration() -> None:
    fake = FakeAS()
    old = ClientRegistration(issuer=ISSUER, client_id="old", method="dcr", redirect_uris=(REDIRECT,),
                             client_secret="s", client_secret_expires_at=FakeClock().now - 1)
    reg, _ = await _ensure(fake, server(), existing=old)
    assert reg.client_id == "client-1"


async def test_preregistered_client_comes_first() -> None:
    fake = FakeAS()
    reg, _ = await _ensure(fake, server(client_id="pre", client_auth_method="client_secret_basic"), secret="sec")
    assert reg.method == "preregistered" and reg.client_id == "pre" and reg.client_secret == "sec"
    assert reg.token_endpoint_auth_method == "client_secret_basic" and fake.registrations == 0


async def test_preregistered_public_client() -> None:
    reg, _ = await _ensure(FakeAS(), server(client_id="pre"))
    assert reg.token_endpoint_auth_method == "none" and reg.client_secret is None


async def test_preregistered_secret_method_without_secret() -> None:
    with pytest.raises(ConfigurationError, match="no client secret"):
        await _ensure(FakeAS(), server(client_id="pre", client_auth_method="client_secret_post"))


async def test_preregistered_client_for_another_issuer_is_an_error() -> None:
    stored = ClientRegistration(issuer="https://old-as.example.com", client_id="pre", method="preregistered")
    with pytest.raises(ConfigurationError, match="now uses"):
        await _ensure(FakeAS(), server(client_id="pre"), existing=stored)


async def test_cimd_used_when_advertised() -> None:
    fake = FakeAS()
    assert fake.as_doc is not None
    fake.as_doc["client_id_metadata_document_supported"] = True
    url = "https://conformance-test.local/client-metadata.json"
    reg, _ = await _ensure(fake, server(options=ServerOptions(client_metadata_url=url)))
    assert reg.method == "cimd" and reg.client_id == url and fake.registrations == 0


async def test_cimd_not_used_when_not_advertised() -> None:
    reg, _ = await _ensure(FakeAS(), server(options=ServerOptions(client_metadata_url="https://app.example/c.json")))
    assert reg.method == "dcr"


@pytest.mark.parametrize("url", ["http://app.example/c.json", "https://app.example", "https://app.example/"])
async def test_cimd_url_must_be_https_with_path(url: str) -> None:
    fake = FakeAS()
    assert fake.as_doc is not None
    fake.as_doc["client_id_metadata_document_supported"] = True
    with pytest.raises(ConfigurationError, match="https"):
        await _ensure(fake, server(options=ServerOptions(client_metadata_url=url)))


async def test_no_way_to_identify_asks_for_a_client_id() -> None:
    fake = FakeAS()
    assert fake.as_doc is not None
    del fake.as_doc["registration_endpoint"]
    with pytest.raises(ConfigurationError, match="Enter a client ID"):
        await _ensure(fake, server())


async def test_delete_registration() -> None:
    fake = FakeAS()
    reg, _ = await _ensure(fake, server())
    async with fake.client() as http:
        assert await reg_mod.delete_registration(http, reg, guard=guard())
    last = fake.requests[-1]
    assert last.method == "DELETE" and last.headers["authorization"] == "Bearer rat-1"
    async with fake.client() as http:
        assert not await reg_mod.delete_registration(http, replace(reg, registration_access_token=None), guard=guard())
        pre = ClientRegistration(issuer=ISSUER, client_id="p", method="preregistered")
        assert not await reg_mod.delete_registration(http, pre, guard=guard())
