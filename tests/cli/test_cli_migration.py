"""`mcp-auth` tells the user what an authorization server migration did (real processes).

Two mock authorization servers as processes (see tests/manager/test_migration.py):
sign in at A with the CLI, move the resource to B, then one `mcp-auth call` must sign in
at B and print, on stderr, that the server moved and that the old sign-in was revoked and
the old registration deleted at A.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.cli.helpers import approve_sign_in, cli_env, start_cli
from tests.manager.test_migration import Pair, pair, stat  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e


def _approving(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a command that prints an authorization URL; open it as the user would."""
    # BROWSER=false: must not be used with --no-browser.
    proc = start_cli(*args, "--no-browser", env=cli_env("cli migration test"))
    return approve_sign_in(proc, timeout=60)[1]


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
