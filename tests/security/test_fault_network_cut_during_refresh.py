"""Fault test L3: the network drops a refresh response after the server committed the rotation.

Server A is a real mock server process reached only through a small asyncio
TCP proxy on 127.0.0.1 (the mock's ``--public-url`` is the proxy, so issuer,
resource and endpoints all go through it). Server B is a second mock process
reached directly. The TokenManager uses real components: the real
``OAuthClient``, the loopback listener, and the encrypted file vault and
settings from ``open_storage``.

When armed, the proxy forwards A's refresh request, waits until the server
starts answering (so the rotation is committed: the old refresh token is
marked used and a new one stored) and then aborts the client connection
without forwarding a byte of the answer.

Expected (and asserted) end state, the one RFC 9700 §4.14.2 implies for a
rotating AS without a grace window:

1. the lost answer is a transient network error: A keeps its tokens and stays
   signed in, its still-valid access token keeps being served;
2. the next refresh presents the old refresh token, the AS sees a reuse,
   revokes the family and answers ``invalid_grant``; the manager then marks
   only A "sign-in needed" and deletes only A's tokens;
3. B's tokens, registration and state are untouched and B keeps working;
   A's discovery and registration are kept, so signing in again just works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import CredentialKey, ServerOptions, TokenSet
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.storage import open_storage
from tests.mock.helpers import MockProcess, bearer_status, start_mock_process
from tests.start_page import HeadlessApprover

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSPHRASE = "network cut test passphrase"
MARKER = b"grant_type=refresh_token"


class CuttingProxy:
    """TCP proxy that, when armed, swallows the answer to the next refresh request."""

    def __init__(self) -> None:
        self.upstream_port = 0
        self.armed = False
        self.cut = asyncio.Event()
        self.dropped = b""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        pending = bytearray()  # the request bytes since the last answer
        cut_this = False

        async def client_to_server() -> None:
            nonlocal cut_this
            while data := await reader.read(65536):
                pending.extend(data)
                if self.armed and MARKER in pending:
                    self.armed = False
                    cut_this = True
                up_writer.write(data)
                await up_writer.drain()
            up_writer.close()

        async def server_to_client() -> None:
            while data := await up_reader.read(65536):
                if cut_this:
                    # The server is answering, so it has committed; the client never hears it.
                    self.dropped = await _rest_of_response(up_reader, bytearray(data))
                    writer.transport.abort()
                    up_writer.close()
                    self.cut.set()
                    return
                pending.clear()
                writer.write(data)
                await writer.drain()
            writer.close()

        try:
            await asyncio.gather(client_to_server(), server_to_client())
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
            up_writer.close()
            self._tasks.discard(task)


async def _rest_of_response(reader: asyncio.StreamReader, got: bytearray) -> bytes:
    """Read the whole swallowed answer (bounded), to prove what the server committed."""
    for _ in range(50):
        head_end = got.find(b"\r\n\r\n")
        if head_end >= 0:
            length = 0
            for line in bytes(got[:head_end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(got) >= head_end + 4 + length:
                break
        more = await asyncio.wait_for(reader.read(65536), timeout=5)
        if not more:
            break
        got.extend(more)
    return bytes(got)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_behind(proxy: CuttingProxy, proxy_port: int) -> MockProcess:
    """Start server A on a free port whose public URL is the proxy (retry if the port got taken)."""
    for attempt in range(5):
        proxy.upstream_port = _free_port()
        try:
            return start_mock_process(
                "--auto-approve", "--port", str(proxy.upstream_port), "--public-url", f"http://127.0.0.1:{proxy_port}"
            )
        except RuntimeError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


@pytest.fixture
async def proxy() -> AsyncIterator[CuttingProxy]:
    p = CuttingProxy()
    yield p
    await p.aclose()


async def _mcp_status(url: str, token: str) -> int:
    async with httpx.AsyncClient(timeout=10, trust_env=False) as c:
        return await bearer_status(c, url, token)


async def _tokens(vault: object, m: TokenManager, ref: str) -> TokenSet | None:
    view = m.get(ref)
    key = CredentialKey(view.issuer or "", view.client_id or "", view.resource or "")
    raw = await vault.get(key.storage_name())  # type: ignore[attr-defined]
    return None if raw is None else TokenSet.from_dict(raw)


async def test_network_cut_after_committed_rotation_needs_sign_in_for_that_server_only(
    proxy: CuttingProxy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    proxy_port = await proxy.start()
    servers: list[MockProcess] = []
    home = Path(os.environ["MCP_AUTH_DESKTOP_HOME"])
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", PASSPHRASE)
    vault, settings = await asyncio.to_thread(open_storage, home)
    http = make_http_client()
    m = TokenManager(http=http, vault=vault, settings=settings, browser=HeadlessApprover())
    try:
        a = await asyncio.to_thread(_start_behind, proxy, proxy_port)
        servers.append(a)
        b = await asyncio.to_thread(start_mock_process, "--auto-approve")
        servers.append(b)
        assert a.mcp_url == f"http://127.0.0.1:{proxy_port}/mcp"

        await m.start(background=False)
        loopback = ServerOptions(allow_insecure_loopback=True)
        await m.add_server(a.mcp_url, name="A", options=loopback)
        await m.add_server(b.mcp_url, name="B", options=loopback)
        await m.sign_in("A")
        await m.sign_in("B")
        a_before = await _tokens(vault, m, "A")
        b_before = await _tokens(vault, m, "B")
        assert a_before is not None and a_before.refresh_token and b_before is not None
        b_view_before = m.get("B")

        # 1. The rotation is committed at A but its answer never arrives.
        proxy.armed = True
        with caplog.at_level(logging.INFO), pytest.raises(errors.McpAuthError) as lost:
            await m.refresh("A")
        await asyncio.wait_for(proxy.cut.wait(), timeout=10)
        assert proxy.dropped.startswith(b"HTTP/1.1 200") and b'"refresh_token"' in proxy.dropped
        assert lost.value.transient and isinstance(lost.value, errors.NetworkError)
        assert m.get("A").state is ServerState.SIGNED_IN
        assert await _tokens(vault, m, "A") == a_before  # nothing lost locally
        assert await m.get_token("A", min_ttl=0) == a_before.access_token
        assert await _mcp_status(a.mcp_url, a_before.access_token) == 200

        # 2. The retry presents the rotated-away refresh token: reuse, the AS revokes the family.
        with caplog.at_level(logging.INFO), pytest.raises(errors.SignInRequiredError):
            await m.refresh("A")
        view_a = m.get("A")
        assert view_a.state is ServerState.SIGN_IN_NEEDED
        assert await _tokens(vault, m, "A") is None
        with pytest.raises(errors.SignInRequiredError):
            await m.get_token("A")
        stats = (await asyncio.to_thread(a.control))["stats"]
        assert stats["refresh_reuse"] == 1 and stats["token_requests:refresh_token"] == 2
        assert await _mcp_status(a.mcp_url, a_before.access_token) == 401  # the family is dead
        assert view_a.issuer and view_a.client_id  # discovery and registration kept

        # 3. B is untouched and keeps working.
        assert await _tokens(vault, m, "B") == b_before
        b_view = m.get("B")
        assert b_view.state is ServerState.SIGNED_IN
        assert (b_view.client_id, b_view.issuer, b_view.expires_at) == (
            b_view_before.client_id,
            b_view_before.issuer,
            b_view_before.expires_at,
        )
        assert (await m.call("B", "tools/list")).get("tools")
        assert (await asyncio.to_thread(b.control))["stats"].get("refresh_reuse", 0) == 0
        await m.refresh("B")
        assert m.get("B").state is ServerState.SIGNED_IN

        # Signing in to A again restores it (same registration).
        await m.sign_in("A")
        assert m.get("A").state is ServerState.SIGNED_IN and m.get("A").client_id == view_a.client_id
        assert (await m.call("A", "tools/list")).get("tools")

        # No secret in any log line.
        for secret in (a_before.access_token, a_before.refresh_token, b_before.access_token):
            assert secret not in caplog.text
        assert [r for r in caplog.records if r.levelno >= logging.WARNING and "sign-in needed for A" in r.getMessage()]
    finally:
        await m.aclose()
        await http.aclose()
        await vault.aclose()
        for server in servers:
            await asyncio.to_thread(server.stop)
