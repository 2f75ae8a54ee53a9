"""The shared TLS context (core/tls_trust.py): read on the first TLS connection, once,
and verifying as before; the client's connection pool made on its first request
(core/transport_guard.py PinnedTransport); against real loopback listeners (plain and TLS).

The desktop app makes its HTTP client at start; the CA bundle is parsed only when a
TLS connection is first set up (issue 17: resident memory after start). These tests
show that laziness changes nothing that is checked: an untrusted certificate still
fails with the same typed error naming the host, a private CA in ``SSL_CERT_FILE``
is still honoured, an unreadable trust store refuses (typed, naming it), every time.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mcp_auth_desktop.core import tls_trust
from mcp_auth_desktop.core.errors import TlsError
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.tls_trust import LazyTrustContext
from mcp_auth_desktop.core.transport_guard import PinnedTransport
from tests.security.test_transport_guard import Listener, make_ca_and_leaf


def _context(http: httpx.AsyncClient) -> ssl.SSLContext:
    """The context the client's connection pool sets up TLS with."""
    ctx: ssl.SSLContext = http._transport.inner._pool._ssl_context  # type: ignore[attr-defined]
    return ctx


@pytest.fixture(autouse=True)
def fresh_contexts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no shared context made yet (and SSL_CERT_* unset)."""
    monkeypatch.setattr(tls_trust, "_shared", {})
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture
async def listeners(tmp_path: Path) -> AsyncIterator[tuple[Path, Listener, int, Listener, int]]:
    """The test CA's file, a TLS listener for ``localhost`` (a leaf of that CA) and a
    plain-http one, both on 127.0.0.1."""
    ca_file, server_ctx = make_ca_and_leaf(tmp_path, "localhost")
    tls, plain = Listener(), Listener()
    tls_port = await tls.start("127.0.0.1", 0, server_ctx)
    plain_port = await plain.start("127.0.0.1", 0)
    yield ca_file, tls, tls_port, plain, plain_port
    await tls.stop()
    await plain.stop()


async def test_trust_is_read_on_the_first_tls_connection_once_and_shared(
    listeners: tuple[Path, Listener, int, Listener, int],
) -> None:
    _, tls, tls_port, plain, plain_port = listeners
    async with make_http_client() as first, make_http_client() as second:
        ctx = _context(first)
        # One context for every client, as strict as httpx's default one.
        assert _context(second) is ctx
        assert isinstance(ctx, LazyTrustContext)
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
        assert not ctx.trust_loaded  # making clients reads no certificates
        response = await first.get(f"http://127.0.0.1:{plain_port}/x")
        assert response.status_code == 200 and len(plain.heads) == 1
        assert not ctx.trust_loaded  # nor does plain http to this computer
        # The test CA is not in the trust store: the same typed error, naming the host.
        url = f"https://localhost:{tls_port}/.well-known/oauth-authorization-server"
        with pytest.raises(TlsError) as info:
            await _get_via_fetch(second, url)
        text = info.value.user_message
        assert text.startswith(f"The TLS certificate of localhost:{tls_port} could not be verified (")
        assert "unable to get local issuer certificate" in text and "SSL_CERT_FILE" in text
        assert tls.heads == []  # nothing was sent over the unverified connection
        assert ctx.trust_loaded
        anchors = ctx.cert_store_stats()["x509_ca"]
        assert anchors > 50  # certifi's bundle, read once
        with pytest.raises(TlsError, match=f"localhost:{tls_port}"):
            await _get_via_fetch(first, url)
        assert ctx.cert_store_stats()["x509_ca"] == anchors  # not read again
    assert tls.heads == []


async def _get_via_fetch(http: httpx.AsyncClient, url: str) -> None:
    from mcp_auth_desktop.core.http import fetch_json
    from mcp_auth_desktop.core.urls import UrlGuard

    guard = UrlGuard(server_url="https://localhost:1/mcp")
    await fetch_json(http, "GET", url, guard=guard)


async def test_private_ca_in_ssl_cert_file_is_trusted_when_first_used(
    listeners: tuple[Path, Listener, int, Listener, int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca_file, tls, tls_port, _, _ = listeners
    async with make_http_client() as default:
        default_ctx = _context(default)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with make_http_client() as http:
        ctx = _context(http)
        assert ctx is not default_ctx  # one context per trust source
        assert isinstance(ctx, LazyTrustContext) and not ctx.trust_loaded
        response = await http.get(f"https://localhost:{tls_port}/x")
        assert response.status_code == 200 and response.json() == {"issuer": "x"}
        assert ctx.trust_loaded and ctx.cert_store_stats()["x509_ca"] == 1
        # Only the private CA: a certificate for another name is still refused.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"https://127.0.0.1:{tls_port}/x")
    assert len(tls.heads) == 1


async def test_unreadable_trust_store_refuses_every_time(
    listeners: tuple[Path, Listener, int, Listener, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    _, tls, tls_port, _, _ = listeners
    missing = tmp_path / "no-such-ca.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    async with make_http_client() as http:
        ctx = _context(http)
        for _ in range(2):  # a failed read is not remembered as done
            with pytest.raises(TlsError, match="could not be read from the CA file") as info:
                await http.get(f"https://localhost:{tls_port}/x")
            assert str(missing) in info.value.user_message
            assert not ctx.trust_loaded
    assert tls.heads == []


_MAKE_CLIENT_ONLY = """
import sys
sys.modules["httpx._main"] = None  # as runtime.make_http does
from mcp_auth_desktop.core.http import make_http_client
http = make_http_client()
print(sorted(m for m in ("httpcore", "h11", "anyio", "certifi") if m in sys.modules))
"""


def test_making_a_client_loads_no_connection_pool() -> None:
    """The app makes its client at start; the pool (httpcore, h11, anyio) and the trust
    store (certifi) load with the first request, not then."""
    loaded = subprocess.run([sys.executable, "-c", _MAKE_CLIENT_ONLY], capture_output=True,
                            text=True, check=True, timeout=60).stdout.strip()
    assert loaded == "[]"


async def test_the_pool_is_made_by_the_first_request_and_kept(
    listeners: tuple[Path, Listener, int, Listener, int],
) -> None:
    _, _, _, plain, plain_port = listeners
    async with make_http_client() as http:
        transport = http._transport
        assert isinstance(transport, PinnedTransport) and not transport.opened
        response = await http.get(f"http://127.0.0.1:{plain_port}/x")
        assert response.status_code == 200 and transport.opened
        pool = transport.inner
        await http.get(f"http://127.0.0.1:{plain_port}/y")
        assert transport.inner is pool  # one pool for the client's life
    assert len(plain.heads) == 2
    async with make_http_client():
        pass  # a client never used closes without making its pool
