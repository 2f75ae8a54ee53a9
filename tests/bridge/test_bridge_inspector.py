"""The MCP Inspector's command line (npm @modelcontextprotocol/inspector 2.12.0, `--cli`,
installed by scripts/bootstrap.d/40-bridge-clients.sh) starts `mcp-auth bridge` as its stdio
server, in its default (legacy) protocol era and in `--protocol-era auto` (2026-07-28 first),
against the mock speaking both eras and pinned to one (the bridge then translates)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bridge.faults import FaultProxy
from tests.bridge.helpers import ROOT, Home, make_home, stats
from tests.mock.helpers import MockProcess, start_mock_process

pytestmark = pytest.mark.timeout(120)

NODE_BIN = ROOT / ".cache" / "conformance" / "node_modules" / "node" / "bin"
INSPECTOR = ROOT / ".cache" / "bridge-clients" / "node_modules" / ".bin" / "mcp-inspector"
PASSED_ENV = ("MCP_AUTH_DESKTOP_HOME", "MCP_AUTH_DESKTOP_KEYRING", "MCP_AUTH_DESKTOP_PASSPHRASE",
              "BROWSER", "BRIDGE_BROWSER_LOG", "PYTHONPATH")


def inspector(home: Home, *args: str, bridge_args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    assert INSPECTOR.exists(), "run scripts/bootstrap.sh test (40-bridge-clients.sh)"
    env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}",
           "HOME": str(home.path)}  # the Inspector's own catalog stays in the test's folder
    pass_env = [x for key in PASSED_ENV if key in home.env for x in ("-e", f"{key}={home.env[key]}")]
    argv = [str(INSPECTOR), "--cli", "--format", "json", *args, *pass_env, "--",
            *home.bridge_argv("mock", "--log-file", str(home.path / "bridge.log"), *bridge_args)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=90)


def ok(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    out: dict = json.loads(result.stdout)
    return out


def failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def pinned() -> Iterator[dict[str, MockProcess]]:
    """Mock servers that speak one revision only."""
    started: dict[str, MockProcess] = {}
    try:
        for protocol in ("2025-11-25", "2026-07-28"):
            started[protocol] = start_mock_process("--auto-approve", "--protocol", protocol)
        yield started
    finally:
        for proc in started.values():
            proc.stop()


@pytest.mark.parametrize(
    ("era", "server", "upstream", "translated"),
    [
        ("legacy", "auto", "handshake", False),
        ("auto", "auto", "2026-07-28", False),  # the Inspector probes server/discover first
        ("legacy", "2026-07-28", "2026-07-28", True),  # initialize answered from server/discover
        ("auto", "2025-11-25", "handshake", True),  # server/discover answered from initialize
    ],
)
def test_inspector_lists_and_calls_tools(
    tmp_path: Path, mock: MockProcess, pinned: dict[str, MockProcess],
    era: str, server: str, upstream: str, translated: bool,
) -> None:
    target = mock if server == "auto" else pinned[server]
    home = make_home(tmp_path)
    home.login(target.mcp_url, "mock")
    before = stats(target).get(f"mcp_era:{upstream}", 0)
    tools = ok(inspector(home, "--method", "tools/list", "--protocol-era", era))
    assert {"echo", "whoami", "list_notes"} <= {t["name"] for t in tools["result"]["tools"]}
    called = ok(inspector(home, "--method", "tools/call", "--tool-name", "echo",
                          "--tool-arg", "text=from the inspector", "--protocol-era", era))
    assert called["result"]["content"][0]["text"] == "from the inspector"
    assert called["result"]["isError"] is False
    assert stats(target).get(f"mcp_era:{upstream}", 0) > before  # the era spoken upstream
    log = (home.path / "bridge.log").read_text()
    assert ("translating" in log or "opening a legacy session" in log) == translated


def test_inspector_sees_nothing_when_the_server_refuses_the_stored_token(
    home: Home, mock: MockProcess
) -> None:
    before = stats(mock)
    mock.control(advance_clock=400)  # the stored token still looks valid; the server says 401
    called = ok(inspector(home, "--method", "tools/call", "--tool-name", "whoami"))
    assert "demo-user" in called["result"]["content"][0]["text"]
    after = stats(mock)
    assert after.get("token_requests:refresh_token", 0) == before.get("token_requests:refresh_token", 0) + 1
    assert after.get("rs_invalid_token", 0) == before.get("rs_invalid_token", 0) + 1


def test_inspector_gets_a_clear_error_after_a_revoke(home: Home, mock: MockProcess) -> None:
    assert home.cli("revoke", "mock").returncode == 0
    text = failure(inspector(home, "--method", "tools/list", bridge_args=("--no-browser",)))
    assert "Access to mock was revoked in MCP Auth Desktop" in text
    assert "mcp-auth login mock" in text


def test_inspector_gets_a_clear_error_when_the_server_answers_500(
    proxied_home: Home, proxied: tuple[MockProcess, FaultProxy]
) -> None:
    _mock, proxy = proxied
    proxy.fail_next_posts("500")
    text = failure(inspector(proxied_home, "--method", "tools/list"))
    assert "answered HTTP 500" in text
    log = Path(proxied_home.path / "bridge.log").read_text()
    assert "Traceback" not in log
    ok(inspector(proxied_home, "--method", "tools/list"))  # and the next run works
