"""End to end: `mcp-auth login` against the mock server process, through ``BROWSER``.

Issue 15 #4 and #9, issue 12 (state mismatch), all through the real CLI,
the real loopback listener and (for the sign-in) real Chromium:

* the browser command's argv is the single-use loopback start page only: no
  ``state``, ``code_challenge``, ``client_id`` or ``redirect_uri`` in it, and
  its environment has no secret; Chromium follows start page -> consent page
  (Approve clicked) -> callback, and the token works;
* a second request for the start page is refused and ends the sign-in at once
  with a clear error (exit code 3), not after the authorization timeout;
* a callback with a forged ``state`` ends the sign-in at once with an error
  naming the state mismatch and a possible cross-site request forgery; the
  browser page says the same; nothing is stored.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_auth_desktop.core.childenv import SECRET_ENV_VARS
from mcp_auth_desktop.core.loopback import (
    START_REUSED_MESSAGE,
    STATE_MISMATCH_MESSAGE,
    is_start_page,
)
from tests.mock.helpers import MockProcess, start_mock_process

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e start-page passphrase CANARY"


@pytest.fixture
def mock() -> Iterator[MockProcess]:
    proc = start_mock_process()
    try:
        yield proc
    finally:
        proc.stop()


def run_cli(tmp_path: Path, mode: str, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], float]:
    record = tmp_path / f"record-{mode}.json"
    env = {
        **os.environ,
        "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
        "MCP_AUTH_DESKTOP_PASSPHRASE": PASSPHRASE,
        "BROWSER": f"{sys.executable} {ROOT / 'tests' / 'e2e' / 'recording_browser.py'}",
        "E2E_BROWSER_MODE": mode,
        "E2E_RECORD": str(record),
        "E2E_BROWSER_LOG": str(tmp_path / "browser.log"),
    }
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout,
    )
    took = time.monotonic() - t0
    seen: dict[str, Any] = {}
    deadline = time.monotonic() + 60  # the browser command may still be closing Chromium
    while mode != "none" and time.monotonic() < deadline:
        seen = json.loads(record.read_text()) if record.exists() else {}
        if seen.get("done"):
            break
        time.sleep(0.1)
    return done, seen, took


def add(tmp_path: Path, mock: MockProcess) -> None:
    done, _, _ = run_cli(tmp_path, "none", "add", mock.mcp_url, "--name", "e2e", "--allow-insecure-loopback")
    assert done.returncode == 0, done.stderr


def test_browser_argv_is_the_start_page_and_chromium_signs_in(tmp_path: Path, mock: MockProcess) -> None:
    add(tmp_path, mock)
    done, seen, _ = run_cli(tmp_path, "approve", "login", "e2e")
    log = (tmp_path / "browser.log").read_text() if (tmp_path / "browser.log").exists() else ""
    assert done.returncode == 0, done.stderr + log
    # argv: one URL, the loopback start page, nothing of the authorization request.
    [url] = seen["argv"]
    assert is_start_page(url), url
    for leak in ("state", "code_challenge", "client_id", "redirect_uri", "response_type", "authorize"):
        assert leak not in url, (leak, url)
    # env: none of our secrets, by name or by value.
    env: dict[str, str] = seen["env"]
    assert not SECRET_ENV_VARS & {k.upper() for k in env}
    assert not any(PASSPHRASE in v for v in env.values())
    # Chromium went start page -> consent (Approve) -> callback, and the sign-in holds.
    assert "clicked approve" in log and "Signed in" in seen["page"]
    token, _, _ = run_cli(tmp_path, "none", "token", "e2e", "--min-ttl", "0")
    assert token.returncode == 0 and token.stdout.strip(), token.stderr


def test_second_use_of_the_start_page_ends_the_sign_in_at_once(tmp_path: Path, mock: MockProcess) -> None:
    add(tmp_path, mock)
    done, seen, took = run_cli(tmp_path, "reuse", "login", "e2e")
    assert done.returncode == 3, done.stderr
    assert "opened a second time" in done.stderr and "Start the sign-in again" in done.stderr
    assert took < 60  # the authorization timeout is 300 s
    assert seen["first"][0] == 302 and "code_challenge=" in seen["first"][1]
    status, location, page = seen["second"]
    assert status == 400 and not location
    assert html.escape(START_REUSED_MESSAGE) in page
    status_json, _, _ = run_cli(tmp_path, "none", "status", "e2e", "--json")
    assert json.loads(status_json.stdout)["state"] != "signed_in"


def test_forged_state_ends_the_sign_in_at_once_and_the_page_says_so(tmp_path: Path, mock: MockProcess) -> None:
    add(tmp_path, mock)
    done, seen, took = run_cli(tmp_path, "forge-state", "login", "e2e")
    assert done.returncode == 3, done.stderr
    assert "state" in done.stderr and "cross-site request forgery" in done.stderr
    assert took < 60
    status, _, page = seen["forged"]
    assert status == 400
    assert html.escape(STATE_MISMATCH_MESSAGE) in page and "forged-state" not in page
    status_json, _, _ = run_cli(tmp_path, "none", "status", "e2e", "--json")
    view = json.loads(status_json.stdout)
    assert view["state"] != "signed_in" and not view["has_refresh_token"]
