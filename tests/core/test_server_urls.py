"""One rule for server URLs (core/urls/), used by the manager, the CLI and the GUI dialog.

``localhost`` and ``*.localhost`` are loopback (RFC 6761 §6.3) for plain http with the
per-server opt-in, kept as the user wrote them (never rewritten to 127.0.0.1), and used
only when they resolve to loopback addresses; the default port makes no second server.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core.errors import InsecureUrlError, McpAuthError
from mcp_auth_desktop.core.manager import normalize_server_url as manager_normalize
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.urls import (
    UrlGuard,
    is_loopback_host,
    normalize_server_url,
    same_server_url,
)
from mcp_auth_desktop.gui.validation import check_server_url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True), ("LOCALHOST", True), ("localhost.", True), ("mcp.localhost", True),
        ("a.b.localhost", True), ("127.0.0.1", True), ("127.8.9.10", True), ("[::1]", True),
        ("::1", True), ("localhost.evil.com", False), ("notlocalhost", False),
        ("mylocalhost", False), ("10.0.0.1", False), ("example.com", False), ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("http://localhost:3000/mcp", "http://localhost:3000/mcp"),
        ("http://LocalHost:3000/mcp/", "http://localhost:3000/mcp/"),
        ("http://mcp.localhost:8000/mcp", "http://mcp.localhost:8000/mcp"),
        ("http://127.0.0.1:9/mcp", "http://127.0.0.1:9/mcp"),
        ("http://[::1]:9/", "http://[::1]:9"),
        ("https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"),
        ("HTTPS://MCP.example.com/mcp?x=1", "https://mcp.example.com/mcp?x=1"),
    ],
)
def test_normalize_keeps_the_users_host_and_drops_the_default_port(url: str, stored: str) -> None:
    assert normalize_server_url(url, allow_insecure_loopback=True) == stored
    # the manager, the GUI dialog and the core give one answer
    assert manager_normalize(url, ServerOptions(allow_insecure_loopback=True)) == stored
    assert check_server_url(url, allow_insecure_loopback=True) is None


@pytest.mark.parametrize(
    "url",
    ["http://localhost.evil.com/mcp", "http://example.com/mcp", "http://10.0.0.1/mcp",
     "http://192.168.1.2:8000/mcp"],
)
def test_plain_http_elsewhere_is_refused_everywhere(url: str) -> None:
    with pytest.raises(InsecureUrlError):
        normalize_server_url(url, allow_insecure_loopback=True)
    assert check_server_url(url, allow_insecure_loopback=True)


@pytest.mark.parametrize("url", ["http://localhost:3000/mcp", "http://127.0.0.1:3000/mcp"])
def test_plain_http_to_loopback_needs_the_opt_in(url: str) -> None:
    with pytest.raises(InsecureUrlError, match="allow insecure loopback"):
        normalize_server_url(url)
    problem = check_server_url(url, allow_insecure_loopback=False)
    assert problem and "Allow http" in problem


@pytest.mark.parametrize("url", ["https://u:p@x.example/mcp", "ftp://x.example/", "https://:99999/"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(McpAuthError):
        normalize_server_url(url)


def test_same_server_url() -> None:
    assert same_server_url("https://h.example:443/mcp", "https://h.example/mcp")
    assert same_server_url("https://h.example/mcp/", "https://h.example/mcp")
    assert same_server_url("http://localhost:3000/mcp", "http://LOCALHOST:3000/mcp")
    assert not same_server_url("https://h.example:8443/mcp", "https://h.example/mcp")
    assert not same_server_url("http://localhost:3000/mcp", "http://127.0.0.1:3000/mcp")


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(
    lambda s: not s.isdigit()  # an all-numeric last label is an IPv4 number, refused elsewhere
)
_HOST = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=3).map(lambda ls: ".".join([*ls, "example"])),
    st.sampled_from(["localhost", "mcp.localhost", "127.0.0.1", "[::1]"]),
)
_PATH = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True), max_size=3).map(
    lambda segs: "".join("/" + s for s in segs)
)
_QUERY = st.one_of(st.just(""), st.from_regex(r"[a-z]{1,4}=[A-Za-z0-9]{0,4}", fullmatch=True))


@st.composite
def _server_url_and_spelling(draw: st.DrawFn) -> tuple[str, str]:
    """A server URL and another spelling of it: case, the default port, a root slash."""
    scheme = draw(st.sampled_from(["https", "http"]))
    host = draw(_HOST)
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    path = draw(_PATH)
    query = draw(_QUERY)
    netloc = host if port is None else f"{host}:{port}"
    url = f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
    other_scheme = draw(st.sampled_from([scheme, scheme.upper(), scheme.capitalize()]))
    other_host = draw(st.sampled_from([host, host.upper()]))
    default = {"http": 80, "https": 443}[scheme]
    other_port = port if port is not None else draw(st.sampled_from([None, default]))
    other_netloc = other_host if other_port is None else f"{other_host}:{other_port}"
    other_path = path or draw(st.sampled_from(["", "/"]))
    other = f"{other_scheme}://{other_netloc}{other_path}" + (f"?{query}" if query else "")
    return url, other


@settings(deadline=None, max_examples=300)
@given(_server_url_and_spelling())
def test_property_normalisation_is_idempotent_and_one_server_has_one_stored_form(
    pair: tuple[str, str],
) -> None:
    url, other = pair
    try:
        stored = normalize_server_url(url, allow_insecure_loopback=True)
    except InsecureUrlError:
        # Only plain http off loopback is refused, and then every spelling is.
        assert url.startswith("http://")
        with pytest.raises(InsecureUrlError):
            normalize_server_url(other, allow_insecure_loopback=True)
        return
    assert normalize_server_url(stored, allow_insecure_loopback=True) == stored
    # Another spelling of the same server is stored the same way and compares equal:
    # `https://host:443/mcp` and `https://HOST/mcp` can never be two servers.
    assert normalize_server_url(other, allow_insecure_loopback=True) == stored
    assert same_server_url(stored, normalize_server_url(other, allow_insecure_loopback=True))
    assert same_server_url(url, other)
    if "?" not in stored:
        assert same_server_url(stored + "/", stored)  # a trailing slash makes no other server


def _resolver(table: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


def _guard(server: str, table: dict[str, Sequence[str]]) -> UrlGuard:
    return UrlGuard.for_server(server, ServerOptions(allow_insecure_loopback=True), resolver=_resolver(table))


async def test_a_localhost_name_is_used_only_when_it_resolves_to_loopback() -> None:
    url = "http://mcp.localhost:3000/mcp"
    ok = _guard(url, {"mcp.localhost": ["127.0.0.1", "::1"]})
    assert ok.check_server_url() == url
    assert await ok.check_endpoint(url, "MCP server") == url
    bad = _guard(url, {"mcp.localhost": ["127.0.0.1", "93.184.216.34"]})
    with pytest.raises(InsecureUrlError, match="not loopback"):
        await bad.check_endpoint(url, "MCP server")


async def test_a_loopback_name_named_by_a_public_server_is_still_refused() -> None:
    g = _guard("https://mcp.example.com/mcp", {"localhost": ["127.0.0.1"], "mcp.example.com": ["93.184.216.34"]})
    with pytest.raises(InsecureUrlError, match="loopback"):
        await g.check_endpoint("https://localhost:9443/token", "token endpoint")


async def test_localhost_server_may_use_its_localhost_authorization_server() -> None:
    # The TypeScript SDK example: MCP server on localhost:A, authorization server on localhost:B.
    g = _guard("http://localhost:3000/mcp", {"localhost": ["::1", "127.0.0.1"]})
    assert await g.check_endpoint("http://localhost:3001/token", "token endpoint")
