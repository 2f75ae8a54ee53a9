"""`mcp-auth token` on a cached, valid token, against `python -c pass` (goal: at most 4x).

MCP clients run the command once per connection (Claude Code's
``headersHelper``), so its start-up is the cost users feel. A server is
signed in against the mock server (real process, auto-approve) with the
vault key in the session's real Secret Service (``make bench`` runs under
scripts/headless.sh) and the app's default folders (platformdirs; no
``MCP_AUTH_DESKTOP_HOME``), then the installed ``mcp-auth`` console script and the
bare interpreter are run alternately, so both see the same machine load.
The figure is the median of the runs; the full command (``python -m
mcp_auth_desktop.cli.main``) is reported beside it, without a target.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Result

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "token"
RUNS = 21


async def _sign_in(url: str) -> None:
    from mcp_auth_desktop.core.http import make_http_client
    from mcp_auth_desktop.core.loopback import is_start_page
    from mcp_auth_desktop.core.manager import TokenManager
    from mcp_auth_desktop.core.models import ServerOptions
    from mcp_auth_desktop.storage import open_storage

    class Browser:
        async def open(self, auth_url: str) -> None:
            async def go() -> None:
                async with httpx.AsyncClient(timeout=10, trust_env=False) as c:
                    url = auth_url
                    if is_start_page(url):  # the app's single-use loopback start page
                        url = (await c.get(url)).headers["location"]
                    r = await c.get(url)  # the mock auto-approves
                    await c.get(r.headers["location"])

            asyncio.get_running_loop().create_task(go())

    vault, settings = await asyncio.to_thread(open_storage)
    if vault.location.key_source != "keyring":
        raise RuntimeError("no Secret Service: run through scripts/headless.sh (make bench)")
    http = make_http_client()
    manager = TokenManager(http=http, vault=vault, settings=settings, browser=Browser())
    try:
        await manager.start(background=False)
        await manager.add_server(
            url, name="bench", options=ServerOptions(allow_insecure_loopback=True)
        )
        await manager.sign_in("bench")
    finally:
        await manager.aclose()
        await http.aclose()
        await vault.aclose()


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - t0


def run() -> list[Result]:
    from bench.bench_manager import MockServer

    script = Path(sys.executable).parent / "mcp-auth"
    lean_cmd = [str(script), "token", "bench"]
    full_cmd = [sys.executable, "-m", "mcp_auth_desktop.cli.main", "token", "bench"]
    base_cmd = [sys.executable, "-c", "pass"]
    server = MockServer("--auto-approve", "--access-token-ttl", "3600")
    # The app's default folders (platformdirs, from XDG_* pointed at a temporary folder), as
    # users run it: no MCP_AUTH_DESKTOP_HOME, which would spare the platformdirs import.
    names = ("MCP_AUTH_DESKTOP_KEYRING", "MCP_AUTH_DESKTOP_PASSPHRASE", "MCP_AUTH_DESKTOP_HOME",
             "XDG_CONFIG_HOME", "XDG_DATA_HOME")
    saved = {k: os.environ.pop(k, None) for k in names}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-token-") as tmp:
            os.chmod(tmp, 0o700)
            os.environ["XDG_CONFIG_HOME"] = os.path.join(tmp, "config")
            os.environ["XDG_DATA_HOME"] = os.path.join(tmp, "data")
            asyncio.run(_sign_in(server.mcp_url))
            env = dict(os.environ)
            for cmd in (base_cmd, lean_cmd, full_cmd):  # warm the page cache
                _time(cmd, env)
            base, lean = [], []
            for _ in range(RUNS):
                base.append(_time(base_cmd, env))
                lean.append(_time(lean_cmd, env))
            full = [_time(full_cmd, env) for _ in range(5)]
    finally:
        server.stop()
        for k in names:
            os.environ.pop(k, None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    base_ms = statistics.median(base) * 1000
    lean_ms = statistics.median(lean) * 1000
    full_ms = statistics.median(full) * 1000
    return [
        Result(TOPIC, "mcp-auth token, cached (median of 21)", lean_ms, "ms", base_ms,
               "python -c pass", target_ratio=4.0,
               note=f"min {min(lean) * 1000:.0f} ms vs {min(base) * 1000:.0f} ms; "
               "Secret Service read + vault decrypt included"),
        Result(TOPIC, "full command, cached (no lean path)", full_ms, "ms", base_ms,
               "python -c pass", note="python -m mcp_auth_desktop.cli.main token"),
    ]
