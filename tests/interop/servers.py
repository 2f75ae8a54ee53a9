"""The servers of the interop suite, each started the way its own users start it.

* the official TypeScript SDK's example Streamable HTTP server with ``--oauth``
  (its demo authorization server runs in the same process on a second port),
  started as ``node .../dist/esm/examples/server/simpleStreamableHttp.js --oauth``
  with the ports in ``MCP_PORT`` / ``MCP_AUTH_PORT``, the environment variables
  the example reads; it announces itself as ``http://localhost:PORT/mcp``;
* an ordinary FastMCP app (``fastmcp_server.py``) in FastMCP's own virtual
  environment, started as ``python fastmcp_server.py PORT``;
* our mock server, ``python -m mock_server``.

All of them are installed by ``scripts/bootstrap.d/20-interop.sh`` into
``.cache/interop/``; nothing here patches them. ``restart()`` stops the process
and starts it again on the same ports: every one of them keeps its clients and
tokens in memory, so a restart is an authorization server that forgot us.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.mock.helpers import MockProcess, start_mock_process

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "interop"
NODE_BIN = ROOT / ".cache" / "conformance" / "node_modules" / "node" / "bin"
TS_SDK = CACHE / "ts" / "node_modules" / "@modelcontextprotocol" / "sdk"
TS_EXAMPLE = TS_SDK / "dist" / "esm" / "examples" / "server" / "simpleStreamableHttp.js"
FASTMCP_PY = CACHE / "fastmcp-venv" / "bin" / "python"
FASTMCP_APP = Path(__file__).with_name("fastmcp_server.py")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout: float = 30.0) -> None:
    """Until ``url`` answers at all (any HTTP status)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback URL
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up within {timeout:.0f} s") from None
            time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _package_version(path: Path) -> str:
    return str(json.loads((path / "package.json").read_text())["version"])


def _dist_version(name: str) -> str:
    for info in (CACHE / "fastmcp-venv" / "lib").glob(f"python3*/site-packages/{name}-*.dist-info"):
        return info.name[len(name) + 1 : -len(".dist-info")]
    raise RuntimeError(f"{name} is not installed in {CACHE / 'fastmcp-venv'}; run scripts/bootstrap.sh test")


@dataclass
class InteropServer:
    """One server under test; subclasses know how to start it."""

    key: str
    title: str
    mcp_url: str = ""
    log_path: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def version(self) -> str:
        raise NotImplementedError

    def authorization_server(self) -> str:
        raise NotImplementedError

    def known_deviations(self) -> list[str]:
        """What this server does differently from the specs, read from its code; the run
        shows that we cope (the steps that meet it are named)."""
        return []

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        _stop(self._proc)
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _popen(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        assert self.log_path is not None
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


@dataclass
class TypeScriptSdkServer(InteropServer):
    mcp_port: int = 0
    auth_port: int = 0

    def version(self) -> str:
        return _package_version(TS_SDK)

    def authorization_server(self) -> str:
        return "the SDK's demo authorization server (`demoInMemoryOAuthProvider`)"

    def known_deviations(self) -> list[str]:
        return [
            "Its demo authorization server compares `redirect_uri` exactly (\"Unregistered "
            "redirect_uri\" for another loopback port, though RFC 8252 §7.3 asks it not to): "
            "`mcp-auth` listens on the port the registration was made with (*login again*).",
            "Its authorization page shows \"Invalid client_id\" in the browser for a client it "
            "forgot, where a native app cannot see it: while the browser is open `mcp-auth` says "
            "what to do if the browser shows an error (`mcp-auth login --re-register NAME`).",
            "The example listens on all interfaces (it takes no host option); the tests address "
            "it on loopback only.",
        ]

    def start(self) -> None:
        if not TS_EXAMPLE.exists():
            raise RuntimeError(f"{TS_EXAMPLE} is missing; run scripts/bootstrap.sh test")
        if not self.mcp_port:
            self.mcp_port, self.auth_port = free_port(), free_port()
        env = {
            **os.environ,
            "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "MCP_PORT": str(self.mcp_port),
            "MCP_AUTH_PORT": str(self.auth_port),
        }
        self._popen(["node", str(TS_EXAMPLE), "--oauth"], env, TS_SDK)
        self.mcp_url = f"http://localhost:{self.mcp_port}/mcp"
        _wait_http(f"http://localhost:{self.mcp_port}/.well-known/oauth-protected-resource/mcp")
        _wait_http(f"http://localhost:{self.auth_port}/.well-known/oauth-authorization-server")


@dataclass
class FastMcpServer(InteropServer):
    port: int = 0

    def version(self) -> str:
        return _dist_version("fastmcp")

    def authorization_server(self) -> str:
        return f"FastMCP's `InMemoryOAuthProvider` (MCP Python SDK {_dist_version('mcp')} auth routes)"

    def known_deviations(self) -> list[str]:
        return [
            "Registration validates scopes (`valid_scopes`) and authorization refuses scopes the "
            "client was not registered with: `mcp-auth` registers with the scopes it will request "
            "(*login*).",
            "Compares `redirect_uri` exactly: `mcp-auth` listens on the port the registration was "
            "made with (*login again*).",
            "Lists no `none` client authentication, so the client gets a secret; its revocation "
            "endpoint (MCP Python SDK) refuses a request authenticated with `client_secret_basic` "
            "alone (it wants a `client_secret` form field), so `mcp-auth` registers with "
            "`client_secret_post` where the server offers it (*revoke*).",
            "Its token endpoint wants `client_id` in the body whatever the authentication method: "
            "`mcp-auth` always sends it (RFC 6749 §3.2.1 allows it).",
        ]

    def start(self) -> None:
        if not FASTMCP_PY.exists():
            raise RuntimeError(f"{FASTMCP_PY} is missing; run scripts/bootstrap.sh test")
        if not self.port:
            self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self._popen([str(FASTMCP_PY), str(FASTMCP_APP), str(self.port)], env, FASTMCP_APP.parent)
        self.mcp_url = f"http://localhost:{self.port}/mcp"
        _wait_http(f"http://localhost:{self.port}/.well-known/oauth-protected-resource/mcp")


@dataclass
class MockServer(InteropServer):
    port: int = 0
    _mock: MockProcess | None = field(default=None, repr=False)

    def version(self) -> str:
        from mcp_auth_desktop import __version__

        return f"{__version__} (this repository)"

    def authorization_server(self) -> str:
        return "the mock's own OAuth 2.1 authorization server (consent page)"

    def start(self) -> None:
        args = ["--port", str(self.port)] if self.port else []
        self._mock = start_mock_process(*args)
        self.mcp_url = self._mock.mcp_url
        self.port = int(self.mcp_url.split(":")[2].split("/")[0])

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None


def make_server(key: str, log_dir: Path) -> InteropServer:
    log_path = log_dir / f"{key}.log"
    if key == "typescript-sdk":
        return TypeScriptSdkServer(key, "TypeScript SDK example server (`simpleStreamableHttp --oauth`)", log_path=log_path)
    if key == "fastmcp":
        return FastMcpServer(key, "FastMCP app with `InMemoryOAuthProvider`", log_path=log_path)
    if key == "mock":
        return MockServer(key, "Our mock server (`python -m mock_server`)", log_path=log_path)
    raise ValueError(key)


SERVER_KEYS = ("typescript-sdk", "fastmcp", "mock")

if __name__ == "__main__":  # manual use: python -m tests.interop.servers KEY
    srv = make_server(sys.argv[1], Path("/tmp"))
    srv.start()
    print(srv.mcp_url, flush=True)
    try:
        time.sleep(3600)
    finally:
        srv.stop()
