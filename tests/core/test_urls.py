"""URL rules: canonical resource URI, https/loopback, SSRF classifier, authorization URLs."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core.errors import InsecureUrlError, NetworkError
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.urls import (
    UrlGuard,
    canonical_resource_uri,
    check_authorization_url,
    classify_address,
    is_loopback_ip_literal,
    redact_url,
    resource_matches,
)


@pytest.mark.parametrize(
    ("given_url", "canonical"),
    [
        ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
        ("HTTPS://MCP.Example.COM/MCP", "https://mcp.example.com/MCP"),
        ("https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"),
        ("https://mcp.example.com:8443", "https://mcp.example.com:8443"),
        ("https://mcp.example.com/", "https://mcp.example.com"),
        ("https://mcp.example.com", "https://mcp.example.com"),
        ("https://mcp.example.com/server/mcp/", "https://mcp.example.com/server/mcp"),
        ("https://mcp.example.com/mcp#frag", "https://mcp.example.com/mcp"),
        ("https://mcp.example.com/mcp?x=1", "https://mcp.example.com/mcp?x=1"),
        ("http://127.0.0.1:80/mcp", "http://127.0.0.1/mcp"),
        ("http://[::1]:3000/mcp", "http://[::1]:3000/mcp"),
    ],
)
def test_canonical_resource_uri(given_url: str, canonical: str) -> None:
    assert canonical_resource_uri(given_url) == canonical


@pytest.mark.parametrize("bad", ["mcp.example.com/mcp", "ftp://x/y", "https://", "https://u:p@x/y", "https://x/ y", ""])
def test_canonical_resource_uri_rejects(bad: str) -> None:
    with pytest.raises(InsecureUrlError):
        canonical_resource_uri(bad)


@pytest.mark.parametrize(
    ("resource", "server", "ok"),
    [
        ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp", True),
        ("https://MCP.example.com:443/mcp/", "https://mcp.example.com/mcp", True),
        ("https://mcp.example.com", "https://mcp.example.com/mcp", True),
        ("https://mcp.example.com/api", "https://mcp.example.com/api/mcp", True),
        ("https://mcp.example.com/mc", "https://mcp.example.com/mcp", False),
        ("https://mcp.example.com/mcp/x", "https://mcp.example.com/mcp", False),
        ("https://evil.example.com/mcp", "https://mcp.example.com/mcp", False),
        ("http://mcp.example.com/mcp", "https://mcp.example.com/mcp", False),
        ("https://mcp.example.com:8443/mcp", "https://mcp.example.com/mcp", False),
        ("https://mcp.example.com/mcp#x", "https://mcp.example.com/mcp", False),
        ("not a url", "https://mcp.example.com/mcp", False),
    ],
)
def test_resource_matches(resource: str, server: str, ok: bool) -> None:
    assert resource_matches(resource, server) is ok


@pytest.mark.parametrize(
    ("host", "ok"),
    [("127.0.0.1", True), ("127.5.6.7", True), ("[::1]", True), ("::1", True), ("localhost", False),
     ("127.0.0.1.nip.io", False), ("localhost.evil.com", False), ("2130706433", False), ("0x7f.0.0.1", False),
     ("::ffff:127.0.0.1", False), ("10.0.0.1", False)],
)
def test_is_loopback_ip_literal(host: str, ok: bool) -> None:
    assert is_loopback_ip_literal(host) is ok


@pytest.mark.parametrize(
    ("addr", "kind"),
    [
        ("8.8.8.8", "public"), ("2606:4700::1111", "public"),
        ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
        ("100.64.0.1", "private"), ("fd00::1", "private"), ("fc00::1", "private"),
        ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("::ffff:169.254.169.254", "link-local"),
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("::a9fe:a9fe", "link-local"),  # IPv4-compatible
        ("0.0.0.0", "forbidden"), ("::", "forbidden"), ("224.0.0.1", "forbidden"), ("255.255.255.255", "forbidden"),
        ("192.0.2.1", "forbidden"), ("2001:db8::1", "forbidden"), ("ff02::1", "forbidden"),
    ],
)
def test_classify_address(addr: str, kind: str) -> None:
    assert classify_address(addr) == kind


def _encodings(ip: ipaddress.IPv4Address) -> list[str]:
    n = int(ip)
    return [
        str(ip),
        f"::ffff:{ip}",
        str(ipaddress.IPv6Address((0x2002 << 112) | (n << 80))),
        str(ipaddress.IPv6Address((0x0064FF9B << 96) | n)),
    ]


@settings(deadline=None)
@given(st.ip_addresses(v=4))
def test_property_ssrf_decision_is_the_same_in_every_encoding(ip: ipaddress.IPv4Address) -> None:
    kinds = {classify_address(e) for e in _encodings(ip)}
    assert len(kinds) == 1


@settings(deadline=None)
@given(st.ip_addresses())
def test_property_public_implies_global_after_unmapping(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if classify_address(ip) == "public":
        inner = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        assert inner.is_global
        assert not inner.is_private and not inner.is_loopback and not inner.is_link_local


def _resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        if host not in table:
            raise OSError("no such host")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def _guard(server: str = "https://mcp.example.com/mcp", table: dict[str, list[str]] | None = None, **opts: bool) -> UrlGuard:
    return UrlGuard.for_server(server, ServerOptions(**opts), resolver=_resolver(table or {}))


async def test_guard_accepts_public_https() -> None:
    g = _guard(table={"auth.example.com": ["93.184.216.34"]})
    assert await g.check_endpoint("https://auth.example.com/token", "token endpoint") == "https://auth.example.com/token"


@pytest.mark.parametrize(
    "url",
    [
        "http://auth.example.com/token",
        "http://127.0.0.1.nip.io/token",
        "http://localhost.evil.com/token",
        "https://user:pw@auth.example.com/token",
        "https://auth.example.com/token#frag",
        "https://2852039166/",
        "https://0251.0376.0251.0376/",
        "https://0xa9.0xfe.0xa9.0xfe/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://169.254.169.254/latest",
        "https://[::ffff:169.254.169.254]/",
        "https://10.0.0.1/",
        "https://0.0.0.0/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://127.0.0.1/",
    ],
)
async def test_guard_blocks(url: str) -> None:
    with pytest.raises(InsecureUrlError):
        await _guard().check_endpoint(url, "token endpoint")


async def test_guard_resolves_names_and_checks_every_address() -> None:
    g = _guard(table={"rebind.example": ["93.184.216.34", "169.254.169.254"], "localhost.": ["127.0.0.1"]})
    with pytest.raises(InsecureUrlError, match="link-local"):
        await g.check_endpoint("https://rebind.example/x", "metadata")
    with pytest.raises(InsecureUrlError, match="loopback"):
        await g.check_endpoint("https://localhost./x", "metadata")


async def test_guard_unresolvable_name_is_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(NetworkError):
        await _guard().check_endpoint("https://nowhere.example/x", "metadata")


async def test_guard_unresolvable_name_behind_a_proxy_is_left_to_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert await _guard().check_endpoint("https://internal.corp/x", "metadata") == "https://internal.corp/x"


async def test_loopback_allowed_when_server_is_loopback() -> None:
    g = _guard("http://127.0.0.1:8000/mcp", {"localhost": ["127.0.0.1", "::1"]}, allow_insecure_loopback=True)
    assert await g.check_endpoint("http://127.0.0.1:9000/token", "token endpoint")
    assert await g.check_endpoint("http://localhost:9000/token", "token endpoint")
    assert await g.check_endpoint("http://[::1]:9000/token", "token endpoint")
    # still no metadata service, no unspecified address
    with pytest.raises(InsecureUrlError):
        await g.check_endpoint("http://169.254.169.254/", "metadata")
    with pytest.raises(InsecureUrlError):
        await g.check_endpoint("http://0.0.0.0:9000/", "metadata")


async def test_http_loopback_needs_the_opt_in() -> None:
    g = _guard("https://127.0.0.1:8000/mcp")
    with pytest.raises(InsecureUrlError, match="https"):
        await g.check_endpoint("http://127.0.0.1:9000/token", "token endpoint")
    assert await g.check_endpoint("https://127.0.0.1:9000/token", "token endpoint")


async def test_private_network_opt_in() -> None:
    g = _guard(allow_private_network=True, table={"intranet": ["10.0.0.5"]})
    assert await g.check_endpoint("https://intranet/x", "metadata")
    assert await g.check_endpoint("https://192.168.0.2/x", "metadata")
    with pytest.raises(InsecureUrlError):
        await g.check_endpoint("https://0.0.0.0/x", "metadata")


async def test_server_on_private_dns_name_allows_private_endpoints() -> None:
    g = _guard("https://mcp.corp/mcp", {"mcp.corp": ["10.1.1.1"], "auth.corp": ["10.1.1.2"]})
    assert await g.check_endpoint("https://auth.corp/token", "token endpoint")
    with pytest.raises(InsecureUrlError):
        await g.check_endpoint("https://169.254.169.254/", "metadata")


async def test_server_host_itself_is_not_resolved() -> None:
    resolver = _resolver({})
    g = UrlGuard.for_server("https://mcp.example.com/mcp", resolver=resolver)
    assert await g.check_endpoint("https://MCP.example.com/.well-known/oauth-protected-resource", "metadata")
    assert resolver.calls == []  # type: ignore[attr-defined]


def test_server_url_check() -> None:
    assert _guard("https://x/mcp").check_server_url()
    with pytest.raises(InsecureUrlError):
        _guard("http://x/mcp").check_server_url()
    with pytest.raises(InsecureUrlError):
        _guard("http://127.0.0.1/mcp").check_server_url()
    assert _guard("http://127.0.0.1/mcp", allow_insecure_loopback=True).check_server_url()
    with pytest.raises(InsecureUrlError):
        _guard("http://10.0.0.1/mcp", allow_insecure_loopback=True).check_server_url()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "file:///etc/passwd",
        "vbscript:msgbox",
        "https://as.example.com/authorize?x=$(touch /tmp/pwned)",
        "https://as.example.com/authorize?x=`id`",
        'https://as.example.com/authorize?x="a"',
        "https://as.example.com/authorize?x='a'",
        "https://as.example.com/authorize?x=a b",
        "https://as.example.com/authorize?x=a\nb",
        "https://as.example.com/authorize?x=%zz",
        "https://as.example.com/authorize#frag",
        "http://as.example.com/authorize",
        "http://127.0.0.1:9000/authorize",
        "https://user@as.example.com/authorize",
        "https://as.example.com/authorize?x=<b>",
    ],
)
def test_check_authorization_url_rejects(url: str) -> None:
    with pytest.raises(InsecureUrlError):
        check_authorization_url(url)


def test_check_authorization_url_accepts() -> None:
    url = "https://as.example.com/authorize?response_type=code&scope=a%20b&resource=https%3A%2F%2Fx"
    assert check_authorization_url(url) == url
    assert check_authorization_url("http://127.0.0.1:9/a?b=c", allow_insecure_loopback=True)
    assert check_authorization_url("http://localhost:9/a", allow_insecure_loopback=True)
    with pytest.raises(InsecureUrlError):
        check_authorization_url("http://10.0.0.1/a", allow_insecure_loopback=True)


def test_redact_url_drops_query_and_userinfo() -> None:
    assert redact_url("https://u:p@x.example:8443/a/b?code=SECRET#f") == "https://x.example:8443/a/b"
