"""`tools/call` through `mcp-auth bridge` against the same call made directly with httpx.

Goal (issue 14): the bridge adds at most 20 % plus 2 ms to a round trip. Both paths talk
to the same mock server process (JSON responses, one session each) in the same run, and
the calls alternate (direct, bridge, direct, …) so both see the same machine load. The
bridge is driven as a client drives it: one JSON-RPC line on its stdin, one line back on
its stdout. Figures are medians; the target ratio printed is 1.2 + 2 ms / direct median.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Result

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "bridge"
WARMUP = 20
CALLS = 300


def _start_mock() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "mock_server", "--port", "0", "--auto-approve"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "MCP_AUTH_DESKTOP_HOME": str(home), "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
            "MCP_AUTH_DESKTOP_PASSPHRASE": "bench bridge", "PYTHONPATH": str(ROOT),
            "BROWSER": f"{sys.executable} {ROOT / 'tests' / 'bridge' / 'fetch_url.py'}"}


def _cli(env: dict[str, str], *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "mcp_auth_desktop.cli.main", *args], env=env,
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"mcp-auth {args[0]} failed: {r.stderr.strip()}")
    return r.stdout


class _Direct:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                        "Content-Type": "application/json"}
        init = self.http.post(url, headers=self.headers, json={
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "bench", "version": "1"}}})
        self.headers["Mcp-Session-Id"] = init.headers["mcp-session-id"]
        self.headers["MCP-Protocol-Version"] = "2025-11-25"
        self.http.post(url, headers=self.headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call(self, i: int) -> float:
        t0 = time.perf_counter()
        r = self.http.post(self.url, headers=self.headers, json=_call(i))
        assert r.json()["result"]["content"][0]["text"] == f"bench {i}"
        return time.perf_counter() - t0


class _Bridged:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_auth_desktop.cli.main", "bridge", "mock"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
        self._send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                    "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                               "clientInfo": {"name": "bench", "version": "1"}}})
        self._read()
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        reply: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return reply

    def call(self, i: int) -> float:
        t0 = time.perf_counter()
        self._send(_call(i))
        reply = self._read()
        elapsed = time.perf_counter() - t0
        assert reply["result"]["content"][0]["text"] == f"bench {i}", reply
        return elapsed

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(15)


def _call(i: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": f"bench {i}"}}}


def run() -> list[Result]:
    mock, url = _start_mock()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
            home = Path(tmp) / "home"
            home.mkdir(mode=0o700)
            env = _env(home)
            _cli(env, "login", url, "--name", "mock", "--allow-insecure-loopback")
            token = _cli(env, "token", "mock").strip()
            direct, bridged = _Direct(url, token), _Bridged(env)
            try:
                for i in range(WARMUP):
                    direct.call(i)
                    bridged.call(i)
                d_times, b_times = [], []
                for i in range(WARMUP, WARMUP + CALLS):
                    d_times.append(direct.call(i))
                    b_times.append(bridged.call(i))
            finally:
                bridged.close()
                direct.http.close()
    finally:
        mock.terminate()
        mock.wait(10)
    d_ms = statistics.median(d_times) * 1000
    b_ms = statistics.median(b_times) * 1000
    limit = 1.2 + 2.0 / d_ms
    return [
        Result(TOPIC, "tools/call direct with httpx (median)", d_ms, "ms"),
        Result(TOPIC, "tools/call through mcp-auth bridge (median)", b_ms, "ms",
               baseline=d_ms, baseline_name="direct httpx", target_ratio=round(limit, 3),
               note=f"goal: <= 1.2 x direct + 2 ms = {1.2 * d_ms + 2:.2f} ms; "
                    f"p90 bridge {statistics.quantiles(b_times, n=10)[-1] * 1000:.2f} ms, "
                    f"direct {statistics.quantiles(d_times, n=10)[-1] * 1000:.2f} ms; {CALLS} calls each"),
    ]
