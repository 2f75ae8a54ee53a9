"""Fixtures of the protocol-era interop tests: third-party MCP servers, each behind the
OAuth gateway of :mod:`tests.interop.era_gateway`, signed in through our mock authorization server.

* ``everything``: ``@modelcontextprotocol/server-everything`` in Streamable HTTP mode
  (``node dist/index.js streamableHttp``, ``PORT`` from the environment, as its README says);
  it speaks 2025-11-25 only.
* ``python-sdk``: a server on PyPI ``mcp`` (``MCPServer``), :mod:`tests.interop.era_python_server`;
  it speaks 2026-07-28 and, through ``initialize``, the legacy revisions.
* ``ts-sdk``: a server on the official TypeScript SDK v2 (``@modelcontextprotocol/server`` behind
  ``createMcpHandler`` on ``@modelcontextprotocol/node``), :file:`tests/interop/era_ts_server.cjs`;
  it speaks 2026-07-28 and serves legacy ``initialize`` traffic statelessly (its default).

All are installed, pinned, by ``scripts/bootstrap.d/30-protocol-interop.sh``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.interop.era_gateway import Gateway, serving
from tests.mock.helpers import MockProcess, start_mock_process

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "protocol-interop"
NODE = ROOT / ".cache" / "conformance" / "node_modules" / "node" / "bin" / "node"
EVERYTHING = CACHE / "npm" / "node_modules" / "@modelcontextprotocol" / "server-everything"
SDK_PYTHON = CACHE / "venv" / "bin" / "python"
NPM_MODULES = CACHE / "npm" / "node_modules"
TS_SERVER = NPM_MODULES / "@modelcontextprotocol" / "server"


@dataclass(frozen=True)
class EraServer:
    key: str
    title: str
    version: str
    url: str  # the gateway's MCP URL, what the user adds
    gateway: Gateway
    mock: MockProcess
    eras: tuple[str, ...]  # the revisions it serves, newest first
    tool: str
    arguments: dict[str, object]
    expected_text: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:g} s")


def _version_of(package_json: Path) -> str:
    return str(json.loads(package_json.read_text(encoding="utf-8"))["version"])


@contextlib.contextmanager
def _process(cmd: list[str], port: int, what: str, env: dict[str, str] | None = None) -> Iterator[None]:
    if not Path(cmd[0]).exists():
        raise RuntimeError(f"{cmd[0]} is missing: run `make bootstrap` (scripts/bootstrap.d/30-protocol-interop.sh)")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for_port(port, proc, what)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


@contextlib.contextmanager
def era_server(key: str) -> Iterator[EraServer]:
    """Start one third-party server, its gateway and a mock authorization server for it."""
    port = _free_port()
    if key == "everything":
        cmd = [str(NODE), str(EVERYTHING / "dist" / "index.js"), "streamableHttp"]
        env = {"PORT": str(port)}
        title, version = "server-everything", _version_of(EVERYTHING / "package.json")
        eras, tool, args, text = ("2025-11-25",), "echo", {"message": "era test"}, "era test"
    elif key == "python-sdk":
        cmd = [str(SDK_PYTHON), str(ROOT / "tests" / "interop" / "era_python_server.py"), str(port)]
        env = {}
        sdk = subprocess.run(
            [str(SDK_PYTHON), "-c", "import importlib.metadata as m; print(m.version('mcp'))"],
            capture_output=True, text=True, check=False,
        ).stdout.strip() if SDK_PYTHON.exists() else "?"
        title, version = "Python SDK (mcp) MCPServer", sdk
        eras, tool, args, text = ("2026-07-28", "2025-11-25"), "add", {"a": 2, "b": 3}, "5"
    elif key == "ts-sdk":
        cmd = [str(NODE), str(ROOT / "tests" / "interop" / "era_ts_server.cjs"), str(port), str(NPM_MODULES)]
        env = {}
        title, version = "TypeScript SDK (@modelcontextprotocol/server)", _version_of(TS_SERVER / "package.json")
        eras, tool, args, text = ("2026-07-28", "2025-11-25"), "add", {"a": 2, "b": 3}, "5"
    else:
        raise ValueError(key)
    mock = start_mock_process("--auto-approve")
    try:
        with _process(cmd, port, title, env), serving(Gateway(f"http://127.0.0.1:{port}/mcp", mock.issuer)) as gw:
            mock.control(knobs={"resource": gw.mcp_url})  # tokens for the gateway's resource
            yield EraServer(key, title, version, gw.mcp_url, gw, mock, eras, tool, args, text)
    finally:
        mock.stop()
