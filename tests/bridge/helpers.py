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

from tests.bridge.faults import FaultProxy, mock_behind_proxy
from tests.mock.helpers import MockProcess, running_mock

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
    with running_mock("--auto-approve") as proc:
        yield proc


@pytest.fixture()
def home(tmp_path: Path, mock: MockProcess) -> Home:
    h = make_home(tmp_path)
    h.login(mock.mcp_url, "mock")
    return h


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[MockProcess, FaultProxy]]:
    """A mock server behind a FaultProxy (see faults.py)."""
    with mock_behind_proxy("--auto-approve") as pair:
        yield pair


@pytest.fixture()
def proxied_home(tmp_path: Path, proxied: tuple[MockProcess, FaultProxy]) -> Home:
    h = make_home(tmp_path)
    h.login(proxied[0].mcp_url, "mock")
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


class RawBridge:
    """`mcp-auth bridge` driven line by line (for what no client library exposes: the exact
    bytes on stdout, exit codes, signals). Every stdout line is checked to be JSON-RPC."""

    def __init__(self, home: Home, name: str = "mock", *extra: str, env: dict[str, str] | None = None) -> None:
        import queue
        import threading

        self.proc = subprocess.Popen(
            home.bridge_argv(name, "--log-file", str(home.path / "bridge.log"), *extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env or home.env, cwd=ROOT,
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.raw: list[bytes] = []
        self._next = 0

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.raw.append(line)
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def send(self, message: dict[str, Any] | bytes) -> None:
        assert self.proc.stdin is not None
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30) -> dict[str, Any]:
        self._next += 1
        rid = self._next
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait_for(lambda m: m.get("id") == rid and "method" not in m, timeout=timeout)

    def initialize(self) -> dict[str, Any]:
        reply = self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                            "clientInfo": {"name": "raw-test", "version": "1"}})
        if "result" in reply:
            self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply

    def wait_for(self, predicate: Any, *, timeout: float = 30) -> dict[str, Any]:
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching message from the bridge in time")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("the bridge closed stdout")
            message = json.loads(line)
            assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", line
            if predicate(message):
                return message

    def close_stdin(self, timeout: float = 15) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
