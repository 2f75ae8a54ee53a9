"""Discovery failures name their real cause, at once, against real loopback servers.

Every case runs our real discovery (real httpx, real sockets, the real DNS
resolver for ``.invalid``) against :class:`tests.hostile_server.HostileServer`.
Each must raise its own error class, say what happened and where (the host),
never read "no authorization server metadata was found" or "not_found", and
fail within :data:`BOUND` seconds, far below every timeout (15 s per read,
30 s per fetch, 300 s for a sign-in).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.discovery import discover
from mcp_auth_desktop.core.http import MAX_BODY_BYTES, make_http_client
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.core.www_authenticate import bearer_challenge
from tests.hostile_server import HostileServer

BOUND = 3.0
LOOPBACK = ServerOptions(allow_insecure_loopback=True)
MISLEADING = ("no authorization server metadata", "not_found", "answered not_found")


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def _config(url: str, options: ServerOptions = LOOPBACK) -> ServerConfig:
    return ServerConfig(id="s1", name="Hostile", url=url, options=options)


async def _discover_after_401(url: str) -> None:
    """What the app does on a 401: parse the challenge, then discover with it."""
    async with make_http_client(timeout=15.0) as http:
        response = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert response.status_code == 401
        challenge = bearer_challenge(response.headers.get_list("www-authenticate"))
        assert challenge is not None
        await discover(http, _config(url), challenge=challenge)


async def _fails_fast(coro: object) -> errors.McpAuthError:
    started = time.monotonic()
    with pytest.raises(errors.McpAuthError) as info:
        await coro  # type: ignore[misc]
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"took {elapsed:.1f} s: {info.value.user_message}"
    text = info.value.user_message
    assert not any(m in text for m in MISLEADING), text
    return info.value


# -- resource_metadata named in a 401: each refusal is final and named ------------------

HEADER_CASES = {
    # case: (error class, words that must appear, host that must appear)
    "private": (errors.InsecureUrlError, "points at a private address", "10.20.30.40"),
    "linklocal": (errors.InsecureUrlError, "points at a link-local address", "169.254.169.254"),
    "dns": (errors.HostNotFoundError, "could not be resolved (DNS lookup failed", "prm.nothing.invalid"),
    "refused": (errors.ConnectionRefused, "Connection refused by 127.0.0.1:", "127.0.0.1"),
    "tls": (errors.TlsError, "TLS certificate of 127.0.0.1:", "self-signed certificate"),
    "bomb": (errors.CompressionBombError, "a compression bomb", "127.0.0.1"),
    "endless": (errors.ResponseTooLargeError, f"went on past the {MAX_BODY_BYTES}-byte limit", "127.0.0.1"),
    "huge": (errors.ResponseTooLargeError, f"more than the {MAX_BODY_BYTES}-byte limit", "127.0.0.1"),
    "deep": (errors.InvalidJsonError, "nested more than 64 levels", "127.0.0.1"),
    "loop": (errors.RedirectError, "Redirect loop:", "127.0.0.1"),
    "hops": (errors.RedirectError, "Too many redirects (more than 3)", "127.0.0.1"),
    "down": (errors.MetadataError, "answered HTTP 503", "127.0.0.1"),
}


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
async def test_unusable_resource_metadata_from_a_401_is_named(hostile: HostileServer, case: str) -> None:
    cls, words, where = HEADER_CASES[case]
    exc = await _fails_fast(_discover_after_401(hostile.mcp_url(case)))
    assert type(exc) is cls, f"{type(exc).__name__}: {exc.user_message}"
    assert words in exc.user_message
    assert where in exc.user_message
    # The step is named too, so the user knows it was the 401's metadata URL.
    assert exc.user_message.startswith("Could not use the protected resource metadata the server's 401 names")


# -- no challenge: the well-known PRM URL misbehaves; no 2025-03-26 fallback -------------

WELL_KNOWN_CASES = {
    "bomb": (errors.CompressionBombError, "a compression bomb"),
    "endless": (errors.ResponseTooLargeError, "too large or endless"),
    "huge": (errors.ResponseTooLargeError, "declares 8388608 bytes"),
    "deep": (errors.InvalidJsonError, "nested more than"),
    "loop": (errors.RedirectError, "Redirect loop:"),
    "hops": (errors.RedirectError, "Too many redirects"),
    # A failing server is not a 2025-03-26 server: no fallback to the origin's endpoints.
    "down": (errors.ServerUnavailableError, "answered HTTP 503 (a server error); try again later"),
}


@pytest.mark.parametrize("case", sorted(WELL_KNOWN_CASES))
async def test_misbehaving_well_known_metadata_is_named_not_skipped(
    hostile: HostileServer, case: str
) -> None:
    cls, words = WELL_KNOWN_CASES[case]
    async with make_http_client() as http:
        exc = await _fails_fast(discover(http, _config(hostile.mcp_url(case, header=False))))
    assert isinstance(exc, cls), f"{type(exc).__name__}: {exc.user_message}"
    assert words in exc.user_message
    assert "/.well-known/oauth-protected-resource/w/" in exc.user_message


# -- the MCP server itself cannot be reached ----------------------------------------------


async def test_server_on_a_name_that_does_not_resolve() -> None:
    async with make_http_client() as http:
        exc = await _fails_fast(discover(http, _config("https://mcp.nothing.invalid/mcp")))
    assert isinstance(exc, errors.HostNotFoundError)
    assert exc.user_message.startswith("The host name mcp.nothing.invalid could not be resolved")


async def test_server_port_with_nothing_listening(hostile: HostileServer) -> None:
    url = f"http://127.0.0.1:{hostile.refused_port}/mcp"
    async with make_http_client() as http:
        exc = await _fails_fast(discover(http, _config(url)))
    assert isinstance(exc, errors.ConnectionRefused)
    assert f"Connection refused by 127.0.0.1:{hostile.refused_port}" in exc.user_message


async def test_server_with_a_self_signed_certificate(hostile: HostileServer) -> None:
    url = hostile.tls_url.replace("/prm", "/mcp")
    async with make_http_client() as http:
        exc = await _fails_fast(discover(http, _config(url)))
    assert isinstance(exc, errors.TlsError) and not exc.transient
    assert "could not be verified (self-signed certificate)" in exc.user_message


async def test_a_slow_drip_is_cut_by_the_fetch_deadline(hostile: HostileServer) -> None:
    """A body that keeps coming slowly never hits the size cap; the total deadline ends it."""
    from mcp_auth_desktop.core.http import fetch_json
    from mcp_auth_desktop.core.urls import UrlGuard

    guard = UrlGuard.for_server(hostile.mcp_url("endless"), LOOPBACK)
    async with make_http_client() as http:
        started = time.monotonic()
        with pytest.raises(errors.NetworkError) as info:
            await fetch_json(
                http, "GET", f"{hostile.base}/prm/endless", guard=guard,
                max_bytes=1 << 40, deadline=0.5,
            )
    assert time.monotonic() - started < 2.0
    assert "did not finish answering within 0.5 s" in info.value.user_message


async def test_html_page_at_the_well_known_url_still_means_no_metadata() -> None:
    """The one "not here" answer that is not a 4xx: a web app's HTML catch-all page."""
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/.well-known/oauth-protected-resource"):
            return httpx.Response(200, text="<html>app</html>", headers={"content-type": "text/html"})
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(404)
        return httpx.Response(404)

    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        d = await discover(http, _config("https://mcp.example.com/mcp", ServerOptions()), resolver=resolver)
    assert d.protected_resource is None  # the 2025-03-26 rules applied, as they should here


async def test_mcp_request_to_a_closed_port_names_the_cause(hostile: HostileServer) -> None:
    """`call` and the Test button: the MCP client names the cause as discovery does."""
    from mcp_auth_desktop.core.mcp_client import McpClient

    url = f"http://127.0.0.1:{hostile.refused_port}/mcp"
    async with make_http_client() as http:
        exc = await _fails_fast(McpClient(http, url).request("tools/list"))
    assert isinstance(exc, errors.ConnectionRefused)
    assert f"Connection refused by 127.0.0.1:{hostile.refused_port}" in exc.user_message
