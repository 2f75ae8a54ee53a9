"""`mcp-auth` tells the user what an authorization server migration did (real processes).

Two mock authorization servers as processes (see tests/manager/test_migration.py):
sign in at A with the CLI, move the resource to B, then one `mcp-auth call` must sign in
at B and print, on stderr, that the server moved and that the old sign-in was revoked and
the old registration deleted at A.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.manager.test_migration import Pair, pair, stat  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
        "MCP_AUTH_DESKTOP_PASSPHRASE": "cli migration test",
        "BROWSER": "false",  # must not be used with --no-browser
    }


def _approving(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a command that prints an authorization URL; open it as the user would."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args, "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        for _ in range(50):
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("http"):
                with urllib.request.urlopen(line.strip(), timeout=20) as resp:  # noqa: S310
                    assert resp.status == 200
                break
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(seen) + err)


def test_call_after_a_migration_says_what_happened(pair: Pair) -> None:  # noqa: F811
    login = _approving("login", pair.a.mcp_url, "--allow-insecure-loopback", "--name", "moving")
    assert login.returncode == 0, login.stderr
    pair.migrate()

    call = _approving("call", "moving", "tools/list", "--sign-in")
    assert call.returncode == 0, call.stderr
    assert '"tools"' in call.stdout
    assert (f"mcp-auth: moving now uses the authorization server {pair.b.issuer} instead of "
            f"{pair.a.issuer}: sign in there") in call.stderr
    assert (f"mcp-auth: moving: the old sign-in was revoked at {pair.a.issuer}; the old client "
            f"registration at {pair.a.issuer} was deleted.") in call.stderr
    assert stat(pair.a, "clients_deleted") == 1
