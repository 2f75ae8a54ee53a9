"""End to end: `mcp-auth` against the mock server process, consent clicked in real Chromium.

The system browser is replaced through ``BROWSER`` by ``browser_approve.py``,
which drives Debian's Chromium with Playwright to click Approve on the mock
server's consent page (no auto-approve). A manager running in this process
plays the desktop app: its background refresh rotates the short-lived tokens
while the CLI reads them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mcp_auth_desktop.core.events import TokensRefreshed
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.storage import open_storage
from tests.mock.helpers import TOOLS_LIST, MockProcess, bearer_status, start_mock_process

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e passphrase"
TTL = 6  # seconds: the background refresh (at half-life) rotates every ~3 s


@pytest.fixture
def mock() -> Iterator[MockProcess]:
    proc = start_mock_process("--access-token-ttl", str(TTL))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", PASSPHRASE)
    return {
        **os.environ,
        "BROWSER": f"{sys.executable} {ROOT / 'tests' / 'e2e' / 'browser_approve.py'}",
        "E2E_BROWSER_LOG": str(tmp_path / "browser.log"),
    }


def mcp_auth(
    env: dict[str, str], *args: str, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def acli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(mcp_auth, env, *args)


async def test_add_login_token_call_refresh_revoke_remove(mock: MockProcess, env: dict[str, str]):
    r = await acli(env, "add", mock.mcp_url, "--name", "e2e", "--allow-insecure-loopback")
    assert r.returncode == 0, r.stderr

    r = await acli(env, "login", "e2e")
    log = await asyncio.to_thread(_read, Path(env["E2E_BROWSER_LOG"]))
    assert r.returncode == 0, r.stderr + log
    assert "clicked approve" in log

    r = await acli(env, "token", "e2e", "--min-ttl", "0")
    assert r.returncode == 0, r.stderr
    first = r.stdout.strip()
    assert first and "\n" not in first

    r = await acli(env, "call", "e2e", "tools/list", "--no-sign-in")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tools"]

    # The "desktop app": a manager with the background loop on the same data.
    vault, settings = open_storage(Path(os.environ["MCP_AUTH_DESKTOP_HOME"]))
    http = make_http_client()
    app = TokenManager(http=http, vault=vault, settings=settings)
    rotations: list[TokensRefreshed] = []
    app.subscribe(lambda e: rotations.append(e) if isinstance(e, TokensRefreshed) else None)
    try:
        await app.start()
        for _ in range(200):  # bounded: at most ~20 s
            if sum(1 for e in rotations if e.rotated) >= 2:
                break
            await asyncio.sleep(0.1)
        assert sum(1 for e in rotations if e.rotated) >= 2
        r = await acli(env, "token", "e2e", "--min-ttl", "0")
        assert r.returncode == 0, r.stderr
        rotated = r.stdout.strip()
        assert rotated != first
        r = await acli(env, "status", "e2e", "--json")
        assert json.loads(r.stdout)["state"] == "signed_in"
        assert app.get("e2e").last_refresh_result == "ok"
    finally:
        await app.aclose()
        await http.aclose()
        await vault.aclose()

    r = await acli(env, "token", "e2e", "--min-ttl", "2")
    assert r.returncode == 0, r.stderr
    current = r.stdout.strip()
    r = await acli(env, "revoke", "e2e", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["supported"] and report["refresh_token_revoked"]

    async with httpx.AsyncClient(trust_env=False) as c:
        assert await bearer_status(c, mock.mcp_url, current, TOOLS_LIST) == 401

    r = await acli(env, "call", "e2e", "tools/list", "--no-sign-in")
    assert r.returncode == 3, r.stderr

    r = await acli(env, "remove", "e2e", "--json")
    assert r.returncode == 0, r.stderr
    r = await acli(env, "list", "--json")
    assert json.loads(r.stdout)["servers"] == []
