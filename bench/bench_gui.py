"""Desktop app benchmarks, against a bare PySide6 window measured in the same run.

1. Time from process start (``Popen``) to the tray icon shown, with 0 and
   with 200 servers, as a ratio to a process that only shows an empty
   PySide6 window. The app prints a marker line once its window and tray
   are first up (``--exit-after-start``; shown from the settings alone, before
   the HTTP stack and the manager load), then finishes starting, prints its
   memory and shuts down in order.
2. Resident memory (VmRSS) once the start has finished, with 200 servers, as a ratio to
   the bare window process, and as MiB above it (issue 17's goal: <= +40 MiB,
   reported as a ratio to those 40 MiB).
3. The import time of the app's GUI beside that of ``PySide6.QtWidgets``, each
   in a fresh interpreter, minus an empty interpreter's start: as the app loads
   it (``gui.entry.load()``: collection deferred, pure-Python layers before
   PySide6) and as a plain ``import mcp_auth_desktop.gui.app``.

Issue 17's goals are the targets: start to tray <= 1.5x the bare window.

Servers come from a real settings file prepared with the real TokenManager
(``add_server(..., discover=False)``); the vault is in memory
(``MCP_AUTH_DESKTOP_KEYRING=memory``) so the keyring's speed does not blur
the figure. The app's modules are byte-compiled first, as an installed app's
are (``_compile_app``). Run under scripts/headless.sh (``make bench``), which provides
the X display and the tray host.
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

from bench.common import Result

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "gui"
RUNS = 5
SERVERS = 200
READY = "MCP-AUTH-DESKTOP-READY"
FIRST_FRAME = "MCP-AUTH-DESKTOP-FIRST-FRAME"

_BARE_WINDOW = r"""
import sys, time
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
w = QWidget(); w.setWindowTitle("bare"); w.resize(400, 300); w.show()
app.processEvents()
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
cpu = time.process_time() * 1000
print(f"MCP-AUTH-DESKTOP-FIRST-FRAME servers=0 tray=0 cpu_ms={cpu:.0f}", flush=True)
print(f"MCP-AUTH-DESKTOP-READY servers=0 rss_kb={rss} tray=0", flush=True)
"""


def _compile_app(env: dict[str, str]) -> None:
    """Byte-compile the app's sources, as installing it does.

    pip compiles a wheel's modules when it installs them and the frozen bundle holds
    bytecode, so an installed app never compiles its sources at start. A checkout run with
    PYTHONDONTWRITEBYTECODE=1 (as in this development environment) would compile every
    module at every start (about 120 modules, 0.1-0.2 s here), which measures the
    checkout, not the app; PySide6, the baseline, is compiled in site-packages.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", "mcp_auth_desktop"], cwd=ROOT,
                   env=env, check=True, stdout=subprocess.DEVNULL)


def _import_seconds(statement: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Seconds from spawn to the first frame (window and tray shown), the RSS (kB) the
    process reported once its start had finished (the runtime opened), and the CPU
    seconds it had used by its first frame (``time.process_time()``, printed by the
    process itself, both sides alike: what a loaded machine does not stretch)."""
    t0 = time.perf_counter()
    elapsed: float | None = None
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith(FIRST_FRAME) and elapsed is None:
                elapsed = time.perf_counter() - t0
                first = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            if line.startswith(READY):
                assert elapsed is not None, "READY came before the first frame"
                fields = dict(f.split("=", 1) for f in line.split()[1:])
                break
        else:
            raise RuntimeError(f"{argv[-1]} exited without a READY line")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} exited with {proc.returncode}")
    return elapsed, int(fields["rss_kb"]), int(first["cpu_ms"]) / 1000


async def _prepare_home(home: Path, count: int) -> None:
    import httpx

    from mcp_auth_desktop.core.manager import TokenManager
    from mcp_auth_desktop.core.models import ServerOptions
    from mcp_auth_desktop.storage import open_storage

    vault, settings = open_storage(home)
    async with httpx.AsyncClient() as http:
        manager = TokenManager(http=http, vault=vault, settings=settings)
        await manager.start(background=False)
        for i in range(count):
            await manager.add_server(f"http://127.0.0.1:{20000 + i}/mcp", name=f"Server {i:03d}",
                                     options=ServerOptions(allow_insecure_loopback=True),
                                     discover=False)
        await manager.aclose()
    await vault.aclose()


def run() -> list[Result]:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise RuntimeError("bench_gui needs a display: run it under scripts/headless.sh")
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        homes = {n: Path(tmp) / f"home-{n}" for n in (0, SERVERS)}
        old = os.environ.get("MCP_AUTH_DESKTOP_KEYRING")
        os.environ["MCP_AUTH_DESKTOP_KEYRING"] = "memory"
        try:
            for n, home in homes.items():
                home.mkdir(mode=0o700)
                asyncio.run(_prepare_home(home, n))
        finally:
            if old is None:
                os.environ.pop("MCP_AUTH_DESKTOP_KEYRING", None)
            else:
                os.environ["MCP_AUTH_DESKTOP_KEYRING"] = old

        base_env = {**os.environ, "MCP_AUTH_DESKTOP_KEYRING": "memory"}
        _compile_app(base_env)
        bare: list[tuple[float, int, float]] = []
        app: dict[int, list[tuple[float, int, float]]] = {0: [], SERVERS: []}
        imports: dict[str, list[float]] = {"empty": [], "qt": [], "app": [], "entry": []}
        # Interleaved, so drift in machine load hits every variant alike.
        for _ in range(RUNS):
            imports["empty"].append(_import_seconds("pass", base_env))
            imports["qt"].append(_import_seconds("import PySide6.QtWidgets", base_env))
            imports["app"].append(_import_seconds("import mcp_auth_desktop.gui.app", base_env))
            imports["entry"].append(_import_seconds(
                "from mcp_auth_desktop.gui.entry import load; load()", base_env))
            bare.append(_timed([sys.executable, "-c", _BARE_WINDOW], base_env))
            for n, home in homes.items():
                env = {**base_env, "MCP_AUTH_DESKTOP_HOME": str(home)}
                app[n].append(_timed(
                    [sys.executable, "-m", "mcp_auth_desktop", "--exit-after-start"], env))

    def med(xs: list[tuple[float, int, float]], i: int) -> float:
        return float(statistics.median(x[i] for x in xs))

    bare_t, bare_rss, bare_cpu = med(bare, 0), med(bare, 1), med(bare, 2)
    note = f"median of {RUNS} runs; bare window: {bare_t * 1000:.0f} ms, {bare_rss / 1024:.0f} MiB"
    empty = statistics.median(imports["empty"])
    qt_import = statistics.median(imports["qt"]) - empty
    app_import = statistics.median(imports["app"]) - empty
    entry_import = statistics.median(imports["entry"]) - empty
    above = (med(app[SERVERS], 1) - bare_rss) / 1024
    return [
        Result(TOPIC, "start to tray shown, 0 servers", med(app[0], 0), "s", bare_t,
               "bare PySide6 window shown", target_ratio=1.5, note=note),
        Result(TOPIC, f"start to tray shown, {SERVERS} servers", med(app[SERVERS], 0), "s", bare_t,
               "bare PySide6 window shown", target_ratio=1.5),
        Result(TOPIC, f"CPU time to tray shown, {SERVERS} servers", med(app[SERVERS], 2), "s",
               bare_cpu, "bare PySide6 window's CPU time",
               note="process_time() at the first frame, as each process reports it"),
        Result(TOPIC, f"RSS after start, {SERVERS} servers", med(app[SERVERS], 1) / 1024, "MiB",
               bare_rss / 1024, "bare PySide6 window process", target_ratio=2.5),
        Result(TOPIC, f"RSS above the bare window, {SERVERS} servers", above, "MiB", 40.0,
               "issue 17's budget of +40 MiB", target_ratio=1.0),
        Result(TOPIC, "load the app as it starts (gui.entry.load)", entry_import, "s", qt_import,
               "import PySide6.QtWidgets"),
        Result(TOPIC, "import mcp_auth_desktop.gui.app", app_import, "s", qt_import,
               "import PySide6.QtWidgets",
               note=f"median of {RUNS} fresh interpreters, less an empty one's "
                    f"{empty * 1000:.0f} ms"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r.to_json())
