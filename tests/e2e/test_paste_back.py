"""`mcp-auth login --paste` (issue 16): the browser cannot reach this machine, so the user pastes
the final redirect URL from the address bar. Real Chromium approves on the mock server's consent
page; the redirect to 127.0.0.1 is made to fail in the browser (as on another machine), and the
URL it tried is fed to the CLI's stdin. A wrong state is refused like a loopback callback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from playwright.sync_api import Route, sync_playwright

from mcp_auth_desktop.core.loopback import STATE_MISMATCH_MESSAGE
from tests.mock.helpers import MockProcess, start_mock_process

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MCP_AUTH_DESKTOP_KEYRING": "passphrase", "MCP_AUTH_DESKTOP_PASSPHRASE": "paste-back test",
       "BROWSER": "false"}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProcess]:
    proc = start_mock_process()  # with its consent page
    try:
        yield proc
    finally:
        proc.stop()


def _final_url_in_a_browser_that_cannot_reach_us(authorization_url: str) -> str:
    """Approve in Chromium; the AS's redirect to the loopback listener is not followed, as a
    browser on another machine could not follow it: its Location is what the address bar shows."""
    tried: list[str] = []

    def consent_post(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch(max_redirects=0)  # the real AS's real answer to the real consent
        location = answer.headers.get("location", "")
        tried.append(location)
        route.fulfill(status=200, content_type="text/html",
                      body="<title>This site can't be reached</title>127.0.0.1 refused to connect.")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.route(lambda u: urlsplit(u).path.endswith("/authorize"), consent_post)
            page.goto(authorization_url, timeout=30_000)
            page.click("#approve", timeout=30_000)
            page.wait_for_selector("title", state="attached", timeout=30_000)
            for _ in range(40):
                if tried:
                    break
                page.wait_for_timeout(250)
        finally:
            browser.close()
    assert tried, "the browser never sent the consent"
    return tried[-1]


def _login_paste(mock: MockProcess, name: str, tamper: bool) -> tuple[int, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", "login", mock.mcp_url, "--paste",
         "--allow-insecure-loopback", "--name", name],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **ENV}, cwd=ROOT)
    try:
        assert proc.stderr is not None and proc.stdin is not None
        url = None
        for line in iter(proc.stderr.readline, ""):
            if line.startswith("http"):
                url = line.strip()
                break
        assert url and urlsplit(url).path.endswith("/authorize"), url
        final = _final_url_in_a_browser_that_cannot_reach_us(url)
        assert urlsplit(final).hostname == "127.0.0.1" and "code=" in final
        if tamper:
            parts = urlsplit(final)
            query = [(k, "forged-state" if k == "state" else v) for k, v in parse_qsl(parts.query)]
            final = urlunsplit(parts._replace(query=urlencode(query)))
        out, err = proc.communicate(final + "\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    return proc.returncode, out, err


def test_paste_back_signs_in(mock: MockProcess) -> None:
    code, out, err = _login_paste(mock, "pasted", tamper=False)
    assert code == 0, err
    assert "Signed in to pasted" in out
    view = json.loads(subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", "status", "pasted", "--json"],
        capture_output=True, text=True, env={**os.environ, **ENV}, cwd=ROOT, timeout=60).stdout)
    assert view["state"] == "signed_in" and view["has_refresh_token"]


def test_paste_back_with_a_wrong_state_is_refused(mock: MockProcess) -> None:
    code, out, err = _login_paste(mock, "forged", tamper=True)
    assert code == 3, err
    assert STATE_MISMATCH_MESSAGE.split(":")[0] in err
    assert "Signed in" not in out


def test_login_without_a_display_suggests_paste_and_no_browser() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    out = subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", "login", "https://mcp.example.com/mcp"],
        capture_output=True, text=True, env={**env, "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
                                             "MCP_AUTH_DESKTOP_PASSPHRASE": "paste-back test"},
        cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert "no display was found" in out.stderr
    assert "mcp-auth login https://mcp.example.com/mcp --paste" in out.stderr
    assert "--no-browser" in out.stderr
