"""Async discovery against scripted servers."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from mcp_auth_desktop.core.discovery import challenge_fields, discover
from mcp_auth_desktop.core.errors import (
    DiscoveryError,
    InsecureUrlError,
    MetadataError,
    NetworkError,
)
from mcp_auth_desktop.core.models import ServerOptions

from ._fakes import ISSUER, MCP, FakeAS, default_as_doc, server
from ._helpers import FakeClock, public_resolver


@dataclass(frozen=True)
class Bearer:
    resource_metadata: str | None
    scope: tuple[str, ...] | None
    error: str | None = None
    error_description: str | None = None


async def _discover(fake: FakeAS, challenge: object = None, **kw: object):  # type: ignore[no-untyped-def]
    async with fake.client() as http:
        return await discover(http, server(**kw), challenge=challenge, clock=FakeClock(), resolver=public_resolver)


async def test_default_discovery() -> None:
    fake = FakeAS()
    d = await _discover(fake)
    assert d.resource == MCP and d.auth_server.issuer == ISSUER
    assert d.protected_resource is not None and d.protected_resource.scopes_supported == ("files:read",)
    assert d.discovered_at == FakeClock().now
    assert fake.log() == [
        "GET https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        "GET https://auth.example.com/.well-known/oauth-authorization-server",
    ]
    assert any("authorization server" in t for t in d.trail)


async def test_header_url_wins_and_challenge_scopes_are_kept() -> None:
    fake = FakeAS(prm_paths=("/custom/prm",))
    d = await _discover(fake, Bearer("https://mcp.example.com/custom/prm", ("files:write",)))
    assert fake.log()[0] == "GET https://mcp.example.com/custom/prm"
    assert d.challenge_scopes == ("files:write",)


async def test_root_prm_after_path_inserted_404() -> None:
    fake = FakeAS(prm_paths=("/.well-known/oauth-protected-resource",))
    await _discover(fake)
    assert fake.log()[:2] == [
        "GET https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        "GET https://mcp.example.com/.well-known/oauth-protected-resource",
    ]


async def test_issuer_with_path_tries_three_urls_in_order() -> None:
    iss = ISSUER + "/tenant1"
    fake = FakeAS(as_paths=("/tenant1/.well-known/openid-configuration",), as_doc=default_as_doc(iss))
    fake.prm = {"resource": MCP, "authorization_servers": [iss]}
    d = await _discover(fake)
    assert d.auth_server.issuer == iss
    assert fake.log()[1:] == [
        "GET https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "GET https://auth.example.com/.well-known/openid-configuration/tenant1",
        "GET https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]


async def test_openid_configuration_fallback() -> None:
    fake = FakeAS(as_paths=("/.well-known/openid-configuration",))
    d = await _discover(fake)
    assert d.auth_server.issuer == ISSUER


async def test_resource_mismatch_stops_before_as_metadata() -> None:
    fake = FakeAS()
    fake.prm = {"resource": "https://evil.example.com/mcp", "authorization_servers": [ISSUER]}
    with pytest.raises(MetadataError, match="not for the configured server"):
        await _discover(fake)
    assert all("auth.example.com" not in line for line in fake.log())


async def test_issuer_mismatch_everywhere_fails() -> None:
    fake = FakeAS(as_paths=("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"),
                  as_doc=default_as_doc("https://other.example.com"))
    with pytest.raises(MetadataError, match="different issuer"):
        await _discover(fake)
    assert len(fake.log()) == 3  # PRM + both AS URLs tried


async def test_no_as_metadata_anywhere() -> None:
    fake = FakeAS(as_doc=None)
    with pytest.raises(DiscoveryError):
        await _discover(fake)


async def test_legacy_metadata_at_origin() -> None:
    fake = FakeAS(prm=None)
    fake.extra_routes[("GET", "https://mcp.example.com/.well-known/oauth-authorization-server")] = (
        lambda r: httpx.Response(200, json={**default_as_doc("https://mcp.example.com")}))
    d = await _discover(fake)
    assert d.protected_resource is None and d.auth_server.issuer == "https://mcp.example.com"
    assert not d.auth_server.legacy_defaults and d.resource == MCP


async def test_legacy_default_endpoints() -> None:
    d = await _discover(FakeAS(prm=None))
    assert d.auth_server.legacy_defaults
    assert d.auth_server.authorization_endpoint == "https://mcp.example.com/authorize"
    assert d.auth_server.token_endpoint == "https://mcp.example.com/token"


async def test_unreachable_server_is_a_network_error_not_legacy() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(NetworkError):
            await discover(http, server(), clock=FakeClock(), resolver=public_resolver)


async def test_spa_catch_all_html_is_skipped() -> None:
    fake = FakeAS(prm_paths=("/.well-known/oauth-protected-resource",))
    fake.extra_routes[("GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp")] = (
        lambda r: httpx.Response(200, text="<html>app</html>", headers={"content-type": "text/html"}))
    d = await _discover(fake)
    assert d.auth_server.issuer == ISSUER


async def test_blocked_header_url_stops_discovery_with_its_reason() -> None:
    """A refused resource_metadata URL is the answer: no silent fall back to well-known URLs."""
    fake = FakeAS()
    with pytest.raises(InsecureUrlError) as info:
        await _discover(fake, Bearer("https://169.254.169.254/latest/meta-data", None))
    assert "link-local address (169.254.169.254)" in info.value.user_message
    assert "401 names" in info.value.user_message
    assert fake.log() == []  # nothing was sent, not even to the well-known URLs


async def test_header_url_that_answers_404_is_not_replaced_by_well_known() -> None:
    fake = FakeAS()
    with pytest.raises(MetadataError) as info:
        await _discover(fake, Bearer("https://mcp.example.com/nowhere", None))
    assert "answered HTTP 404" in info.value.user_message
    assert all("/.well-known/" not in line for line in fake.log())


async def test_private_authorization_server_is_blocked() -> None:
    fake = FakeAS()
    fake.prm = {"resource": MCP, "authorization_servers": ["https://10.0.0.7"]}
    with pytest.raises(InsecureUrlError):
        await _discover(fake)


async def test_http_server_needs_opt_in() -> None:
    with pytest.raises(InsecureUrlError):
        await _discover(FakeAS(), url="http://127.0.0.1:9/mcp")
    with pytest.raises(InsecureUrlError):
        await _discover(FakeAS(), url="http://mcp.example.com/mcp", options=ServerOptions(allow_insecure_loopback=True))


def test_challenge_fields_accepts_both_shapes() -> None:
    @dataclass
    class Raw:
        scheme: str
        params: dict[str, str]

    assert challenge_fields(None) == (None, None)
    assert challenge_fields(Bearer("u", ("a", "b"))) == ("u", ("a", "b"))
    assert challenge_fields(Raw("Bearer", {"resource_metadata": "u", "scope": "a  b"})) == ("u", ("a", "b"))
    assert challenge_fields(Raw("Bearer", {})) == (None, None)


async def test_legacy_metadata_may_name_an_issuer_path_on_the_same_origin() -> None:
    fake = FakeAS(prm=None)
    doc = {**default_as_doc("https://mcp.example.com/oauth")}
    fake.extra_routes[("GET", "https://mcp.example.com/.well-known/oauth-authorization-server")] = (
        lambda r: httpx.Response(200, json=doc))
    d = await _discover(fake)
    assert d.auth_server.issuer == "https://mcp.example.com/oauth"


async def test_legacy_metadata_naming_another_origin_is_refused() -> None:
    fake = FakeAS(prm=None)
    fake.extra_routes[("GET", "https://mcp.example.com/.well-known/oauth-authorization-server")] = (
        lambda r: httpx.Response(200, json=default_as_doc("https://auth.example.com")))
    with pytest.raises(MetadataError, match="different issuer"):
        await _discover(fake)


async def test_same_origin_relaxation_does_not_apply_with_prm() -> None:
    fake = FakeAS()
    fake.as_doc = default_as_doc(ISSUER + "/oauth")
    with pytest.raises(MetadataError, match="different issuer"):
        await _discover(fake)
