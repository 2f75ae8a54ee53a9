"""`mcp-auth call NAME initialize` against a server that speaks only 2026-07-28 (the mock
pinned with ``--protocol 2026-07-28``): there is no handshake to run, so the command refuses
with a message naming the revision the server speaks and ``server/discover``, remembers the
era it found, and ``server/discover`` then answers without another probe."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.cli.helpers import ROOT, cli_env, run_cli
from tests.mock.helpers import MockProcess, running_mock

pytestmark = pytest.mark.e2e

BROWSER = f"{sys.executable} {ROOT / 'tests' / 'interop' / 'era_browser.py'}"  # follows the auto-approved redirects


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProcess]:
    with running_mock("--auto-approve", "--protocol", "2026-07-28") as proc:
        yield proc


def mcp_auth(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=cli_env("call initialize test", browser=BROWSER), timeout=120)


def test_initialize_against_a_2026_only_server_points_to_server_discover(mock: MockProcess) -> None:
    assert mcp_auth("add", mock.mcp_url, "--name", "modern", "--allow-insecure-loopback").returncode == 0
    login = mcp_auth("login", "modern")
    assert login.returncode == 0, login.stderr

    refused = mcp_auth("call", "modern", "initialize", "--no-sign-in")
    assert refused.returncode == 1, refused.stderr
    assert refused.stdout == ""
    assert "speaks MCP 2026-07-28, which has no initialize handshake" in refused.stderr
    assert "Send server/discover instead" in refused.stderr
    assert "Traceback" not in refused.stderr

    # The era found while refusing is remembered: status shows it, discover needs no probe.
    status = mcp_auth("status", "modern")
    assert status.returncode == 0, status.stderr
    assert "MCP 2026-07-28 (stateless, server/discover)" in status.stdout
    discovered = mcp_auth("call", "modern", "server/discover", "--no-sign-in")
    assert discovered.returncode == 0, discovered.stderr
    assert "2026-07-28" in json.loads(discovered.stdout)["supportedVersions"]
    assert "2025-11-25" not in json.loads(discovered.stdout)["supportedVersions"]
