"""OAuthClient against the project's mock MCP server + AS, with the real loopback listener.

Two set-ups: the mock in-process through ``httpx.ASGITransport`` (fast, knobs at
hand), and one run against a real uvicorn server on 127.0.0.1 with the shared
client from ``make_http_client`` (what a user meets). In both, the
"browser" follows the authorization request and then delivers the redirect
to our real ``LoopbackListener`` over a real loopback socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import uvicorn

from mcp_auth_desktop.core.errors import (
    CallbackError,
    InvalidGrantError,
    TemporarilyUnavailableError,
)
from mcp_auth_desktop.core.flow import OAuthClient
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mock_server import MockConfig, create_app
from tests.start_page import through_start_page

from ._helpers import FakeClock

BASE = "http://127.0.0.1:8000"
OPTS = ServerOptions(allow_insecure_loopback=True)


class RedirectingBrowser:
    """GET the authorization URL on the AS, then the redirect on our loopback port."""

    def __init__(self, as_http: httpx.AsyncClient, tamper=None) -> None:  # type: ignore[no-untyped-def]
        self.as_http = as_http
        self.tamper = tamper
        self.opened: list[str] = []
        self.pages: list[tuple[int, str]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self, url: str) -> None:
        url = await through_start_page(url)  # as Chromium would: the app's start page first
        self.opened.append(url)
        response = await self.as_http.get(url)
        assert response.status_code in (302, 303), response.text[:200]
        location = response.headers["location"]
        if self.tamper:
            location = self.tamper(location)
        # Delivered in the background, as a real browser would: the page only
        # completes once the flow reports.
        task = asyncio.create_task(self._deliver(location))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, location: str) -> None:
        async with httpx.AsyncClient(trust_env=False) as browser:
            try:
                page = await browser.get(location)
            except httpx.HTTPError:
                self.pages.append((0, ""))  # the listener closed first (flow failed)
                return
            self.pages.append((page.status_code, page.text))

    async def settle(self) -> None:
        for _ in range(100):
            if not self._tasks:
                return
            await asyncio.sleep(0.02)


@pytest.fixture
async def mock_app():  # type: ignore[no-untyped-def]
    app = create_app(MockConfig(base_url=BASE, auto_approve=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), follow_redirects=False) as http:
        yield app, http


def _server(**kw) -> ServerConfig:  # type: ignore[no-untyped-def]
    return ServerConfig(id="m", name="Mock", url=BASE + "/mcp", options=kw.pop("options", OPTS), **kw)


async def _sign_in(http: httpx.AsyncClient, srv: ServerConfig | None = None, tamper=None):  # type: ignore[no-untyped-def]
    srv = srv or _server()
    browser = RedirectingBrowser(http, tamper)
    client = OAuthClient(http, clock=FakeClock(), browser=browser)
    d = await client.discover(srv)
    scopes = client.select_scopes(srv, d)
    reg, tokens = await client.sign_in(srv, d, None, scopes=scopes)
    await browser.settle()
    return client, browser, d, reg, tokens


async def _mcp_initialize(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        BASE + "/mcp",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                 "Content-Type": "application/json", "MCP-Protocol-Version": "2025-11-25"},
        json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}},
    )


async def test_full_sign_in_refresh_revoke_delete(mock_app) -> None:  # type: ignore[no-untyped-def]
    app, http = mock_app
    client, browser, d, reg, tokens = await _sign_in(http)
    assert reg.method == "dcr" and reg.issuer == BASE
    assert d.resource == BASE + "/mcp"
    assert "offline_access" in tokens.scope or tokens.refresh_token
    redirect_uri = dict(parse_qsl(urlsplit(browser.opened[0]).query))["redirect_uri"]
    assert redirect_uri.startswith("http://127.0.0.1:") and redirect_uri.endswith("/callback")
    # the listener's page: success, and it never shows the code
    status, page = browser.pages[0]
    assert status == 200 and "Signed in" in page and "code=" not in page
    # the token works at the resource server (audience = our resource)
    assert (await _mcp_initialize(http, tokens.access_token)).status_code == 200
    # refresh rotates
    new = await client.refresh(d, reg, tokens, resource=client.resource_for(_server(), d))
    assert new.refresh_token and new.refresh_token != tokens.refresh_token
    assert (await _mcp_initialize(http, new.access_token)).status_code == 200
    # the old refresh token is spent
    with pytest.raises(InvalidGrantError):
        await client.refresh(d, reg, tokens, resource=d.resource)
    report = await client.revoke(d, reg, new)
    assert report.refresh_token_revoked and report.access_token_revoked, report.errors
    assert (await _mcp_initialize(http, new.access_token)).status_code == 401
    assert await client.delete_registration(reg)


async def test_no_rotation_keeps_refresh_token(mock_app) -> None:  # type: ignore[no-untyped-def]
    app, http = mock_app
    app.state.mock.knobs.rotate_refresh_tokens = False
    client, _, d, reg, tokens = await _sign_in(http)
    new = await client.refresh(d, reg, tokens, resource=d.resource)
    assert new.refresh_token == tokens.refresh_token and new.access_token != tokens.access_token


async def test_transient_token_failures_are_classified(mock_app) -> None:  # type: ignore[no-untyped-def]
    app, http = mock_app
    client, _, d, reg, tokens = await _sign_in(http)
    app.state.mock.knobs.update({"fail_next": 1, "fail_with": "429"})
    with pytest.raises(TemporarilyUnavailableError) as info:
        await client.refresh(d, reg, tokens, resource=d.resource)
    assert info.value.transient and info.value.retry_after == 1.0
    # the refresh token survived the transient failure
    assert (await client.refresh(d, reg, tokens, resource=d.resource)).access_token


async def test_without_iss_support(mock_app) -> None:  # type: ignore[no-untyped-def]
    app, http = mock_app
    app.state.mock.knobs.update({"iss_in_response": False, "advertise_iss": False})
    _, _, d, _, tokens = await _sign_in(http)
    assert not d.auth_server.authorization_response_iss_parameter_supported and tokens.access_token


async def test_stripped_iss_is_rejected_when_advertised() -> None:
    app = create_app(MockConfig(base_url=BASE, auto_approve=True))
    paths: list[str] = []

    async def record(request: httpx.Request) -> None:
        paths.append(request.url.path)

    def strip_iss(location: str) -> str:
        parts = urlsplit(location)
        q = [(k, v) for k, v in parse_qsl(parts.query) if k != "iss"]
        return parts._replace(query="&".join(f"{k}={v}" for k, v in q)).geturl()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), event_hooks={"request": [record]}) as http:
        with pytest.raises(CallbackError, match="iss"):
            await _sign_in(http, tamper=strip_iss)
    assert "/authorize" in paths and "/token" not in paths


async def test_issuer_path_tenant(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(MockConfig(base_url=BASE, issuer_path="/tenant1", auto_approve=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        _, _, d, _, tokens = await _sign_in(http)
    assert d.auth_server.issuer == BASE + "/tenant1" and tokens.access_token


async def test_registration_reused_across_sign_ins_on_new_ports(mock_app) -> None:  # type: ignore[no-untyped-def]
    app, http = mock_app
    client, _, d, reg, _ = await _sign_in(http)
    browser = RedirectingBrowser(http)
    client2 = OAuthClient(http, clock=FakeClock(), browser=browser)
    reg2, tokens2 = await client2.sign_in(_server(), d, reg, scopes=("mcp:read",))
    await browser.settle()
    assert reg2.client_id == reg.client_id and tokens2.access_token
    assert replace(reg2) == reg


# ---- one run against a real uvicorn server (marked e2e)


@pytest.fixture
async def uvicorn_mock() -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    app = create_app(MockConfig(base_url=base, auto_approve=True))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.mark.e2e
async def test_real_uvicorn_sign_in(uvicorn_mock: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(k, raising=False)
    async with aclosing(make_http_client(timeout=10.0)) as http:
        srv = ServerConfig(id="u", name="Mock", url=uvicorn_mock + "/mcp", options=OPTS)
        browser = RedirectingBrowser(http)
        client = OAuthClient(http, browser=browser)
        d = await client.discover(srv)
        reg, tokens = await client.sign_in(srv, d, None, scopes=client.select_scopes(srv, d))
        await browser.settle()
        r = await http.post(uvicorn_mock + "/mcp", headers={"Authorization": f"Bearer {tokens.access_token}",
                                                           "Accept": "application/json, text/event-stream",
                                                           "MCP-Protocol-Version": "2025-11-25"},
                            json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                  "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                             "clientInfo": {"name": "t", "version": "0"}}})
        assert r.status_code == 200
        assert (await client.revoke(d, reg, tokens)).refresh_token_revoked
