"""`mcp-auth login URL --no-browser` for a URL never added, against the mock server process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mock.helpers import MockProcess, start_mock_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProcess]:
    proc = start_mock_process("--auto-approve")
    try:
        yield proc
    finally:
        proc.stop()


def env() -> dict[str, str]:
    return {
        **os.environ,
        "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
        "MCP_AUTH_DESKTOP_PASSPHRASE": "cli login test",
        "BROWSER": "false",  # must not be used with --no-browser
    }


def test_login_no_browser_prints_url_and_waits_then_token_works(mock: MockProcess):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcp_auth_desktop.cli.main",
            "login",
            mock.mcp_url,
            "--no-browser",
            "--allow-insecure-loopback",
            "--name",
            "fresh",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        url = None
        for _ in range(50):  # bounded
            line = proc.stderr.readline()
            if not line:
                break
            if line.startswith("http"):
                url = line.strip()
                break
        assert url and "code_challenge=" in url and "resource=" in url
        assert proc.poll() is None  # still waiting for the redirect
        # The user opens the URL; the mock approves and redirects to the loopback listener.
        with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310
            assert resp.status == 200
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err
    assert "Signed in to fresh" in out
    token = subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", "token", "fresh"],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=60,
    )
    assert token.returncode == 0 and len(token.stdout.strip()) > 20
    status = subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", "status", mock.mcp_url, "--json"],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=60,
    )
    view = json.loads(status.stdout)
    assert view["state"] == "signed in" and view["registration_method"] == "dcr"
    assert token.stdout.strip() not in status.stdout
