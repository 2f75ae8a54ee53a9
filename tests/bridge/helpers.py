"""Fixtures for the bridge tests: a mock server process, a private app home signed in to it,
and the command line that starts `mcp-auth bridge` (as a client's config would)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest

from tests.mock.helpers import MockProcess, start_mock_process

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "bridge test passphrase"


@dataclass
class Home:
    path: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
            capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=timeout,
        )

    def bridge_argv(self, name: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "mcp_auth_desktop.cli.main", "bridge", name, *extra]

    def login(self, url: str, name: str, *extra: str) -> None:
        r = self.cli("login", url, "--name", name, "--allow-insecure-loopback", *extra)
        assert r.returncode == 0, r.stderr

    def errlog(self, mode: str) -> TextIO:
        """Where a client puts the bridge's stderr (it must stay empty with --log-file)."""
        return open(self.path / "stderr.txt", mode)  # noqa: SIM115 - the caller closes it

    def browser_opened(self) -> int:
        log = self.path / "browser.log"
        return len(log.read_text().splitlines()) if log.exists() else 0


def make_home(tmp: Path, *, display: bool = False) -> Home:
    home = tmp / "home"
    home.mkdir(mode=0o700)
    env = {
        **os.environ,
        "MCP_AUTH_DESKTOP_HOME": str(home),
        "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
        "MCP_AUTH_DESKTOP_PASSPHRASE": PASSPHRASE,
        "BROWSER": f"{sys.executable} {ROOT / 'tests' / 'bridge' / 'fetch_url.py'}",
        "BRIDGE_BROWSER_LOG": str(home / "browser.log"),
        "PYTHONPATH": str(ROOT),
    }
    if not display:
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
    return Home(home, env)


def control(mock: MockProcess, **body: Any) -> dict[str, Any]:
    return mock.control(**body)


def stats(mock: MockProcess) -> dict[str, Any]:
    result: dict[str, Any] = mock.control()["stats"]
    return result


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProcess]:
    proc = start_mock_process("--auto-approve")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture()
def home(tmp_path: Path, mock: MockProcess) -> Home:
    h = make_home(tmp_path)
    h.login(mock.mcp_url, "mock")
    return h


def read_json_lines(raw: bytes) -> list[dict[str, Any]]:
    """Every stdout line must be one JSON-RPC message (raises otherwise)."""
    out = []
    for line in raw.splitlines():
        message = json.loads(line)
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", line
        out.append(message)
    return out


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - loopback
        data: bytes = r.read()
    return data
