"""The consent page in real Chromium (Playwright): approve, deny, and a blocked framing attempt."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from tests.mock.helpers import (
    AuthorizationResult,
    MockProcess,
    exchange_code,
    pkce_pair,
    register_public_client,
    start_mock_process,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class _Site(BaseHTTPRequestHandler):
    """Plays both the client's loopback callback and an unrelated page that frames /authorize."""

    frame_target = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path.startswith("/frame"):
            body = f'<!DOCTYPE html><title>framer</title><iframe id="f" src="{self.frame_target}" width="600" height="400"></iframe>'
        else:
            body = "<!DOCTYPE html><title>callback</title><p>done</p>"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        return


@pytest.fixture(scope="module")
def server() -> Iterator[MockProcess]:
    process = start_mock_process()  # consent page on (no --auto-approve)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def site() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def start_flow(server: MockProcess, site: ThreadingHTTPServer) -> tuple[str, str, str, str]:
    port = site.server_address[1]
    async with httpx.AsyncClient() as http:
        client = await register_public_client(http, server.issuer, redirect_uri="http://127.0.0.1/callback",
                                              client_name="Browser Test App")
    verifier, challenge = pkce_pair()
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    url = server.issuer + "/authorize?" + urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect_uri,
        "code_challenge": challenge, "code_challenge_method": "S256", "state": "browser-state",
        "scope": "mcp:read mcp:write", "resource": server.mcp_url,
    })
    return url, client["client_id"], verifier, redirect_uri


async def test_consent_approve_in_chromium(server: MockProcess, site: ThreadingHTTPServer, browser: Browser) -> None:
    url, client_id, verifier, redirect_uri = await start_flow(server, site)
    page = await browser.new_page()
    await page.goto(url)
    assert await page.text_content("#client-name") == "Browser Test App"
    assert await page.text_content("#redirect-host") == "127.0.0.1"
    assert await page.is_visible("#loopback-warning")
    scopes = await page.locator("#scopes li").all_text_contents()
    assert scopes == ["mcp:read", "mcp:write"]
    assert await page.text_content("#resource") == server.mcp_url
    await page.click("#approve")
    await page.wait_for_url(redirect_uri + "?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["browser-state"] and query["iss"] == [server.issuer]
    async with httpx.AsyncClient() as http:
        token = await exchange_code(http, server.issuer, client_id,
                                    AuthorizationResult(query["code"][0], verifier, redirect_uri, "browser-state", None),
                                    resource=server.mcp_url)
    assert token.status_code == 200 and token.json()["scope"] == "mcp:read mcp:write"


async def test_consent_deny_in_chromium(server: MockProcess, site: ThreadingHTTPServer, browser: Browser) -> None:
    url, _, _, redirect_uri = await start_flow(server, site)
    page = await browser.new_page()
    await page.goto(url)
    await page.click("#deny")
    await page.wait_for_url(redirect_uri + "?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["browser-state"]
    assert "code" not in query


async def test_framing_the_consent_page_is_blocked(server: MockProcess, site: ThreadingHTTPServer, browser: Browser) -> None:
    url, _, _, _ = await start_flow(server, site)
    _Site.frame_target = url
    page = await browser.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    responses: list[int] = []
    page.on("response", lambda r: responses.append(r.status) if "/authorize" in r.url else None)
    await page.goto(f"http://127.0.0.1:{site.server_address[1]}/frame")
    await page.wait_for_timeout(500)
    # The AS answered (200 with the consent page) but Chromium refused to render it framed.
    assert 200 in responses
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.url.startswith("chrome-error://")
    assert await frame.query_selector("#approve") is None
    assert any("frame-ancestors 'none'" in line for line in console)
