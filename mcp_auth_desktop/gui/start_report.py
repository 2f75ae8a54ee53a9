"""The lines a ``--exit-after-start`` run prints for bench/bench_gui.py and the tests.

One once the tray icon is shown (first of all: ``app.main``), one once the window and
the tray are first shown (from the settings alone, before
the event loop: asyncio is not loaded yet), naming which of the deferred parts were
loaded by then; one once the start has
finished, with the process's resident memory.
"""

from __future__ import annotations

import linecache
import sys
import time

__all__ = ["FIRST_FRAME_MARKER", "READY_MARKER", "TRACE_MARKER", "TRAY_MARKER", "first_frame_line",
           "mark", "ready_line", "rss_kb", "trace_line", "tray_line"]

READY_MARKER = "MCP-AUTH-DESKTOP-READY"
#: The start-up trace: CPU milliseconds used by each step up to the first frame.
TRACE_MARKER = "MCP-AUTH-DESKTOP-TRACE"
#: Printed (with --exit-after-start) once the tray icon is shown, before the window loads.
TRAY_MARKER = "MCP-AUTH-DESKTOP-TRAY"
#: Printed (with --exit-after-start) once the window and the tray are first shown.
FIRST_FRAME_MARKER = "MCP-AUTH-DESKTOP-FIRST-FRAME"

#: What the first frame must not need: reported as loaded (1) or not (0).
DEFERRED = (("httpx", "httpx"), ("manager", "mcp_auth_desktop.core.manager"),
            ("cryptography", "cryptography"), ("keyring", "keyring"),
            # gui/entry.py binds asyncio to a stand-in: loaded means its submodules are
            ("asyncio", "asyncio.base_events"), ("ssl", "ssl"), ("qasync", "qasync"))


def _loaded_so_far() -> str:
    """Which deferred parts are loaded, then the CPU time so far."""
    loaded = " ".join(f"{name}={int(module in sys.modules)}" for name, module in DEFERRED)
    return f"{loaded} cpu_ms={time.process_time() * 1000:.0f}"


def tray_line(shown: bool) -> str:
    return f"{TRAY_MARKER} tray={int(shown)} {_loaded_so_far()} modules={len(sys.modules)}"


def first_frame_line(servers: int, tray: bool) -> str:
    # CPU time and memory so far: what the first frame cost, beside the wall time the bench
    # measures (which a loaded machine stretches).
    return (f"{FIRST_FRAME_MARKER} servers={servers} tray={int(tray)} {_loaded_so_far()} "
            f"rss_kb={rss_kb()} modules={len(sys.modules)}")


def ready_line(servers: int, tray: bool) -> str:
    # sources: files whose lines linecache still holds (gui/source_cache.py drops them).
    return (f"{READY_MARKER} servers={servers} rss_kb={rss_kb()} tray={int(tray)} "
            f"sources={len(linecache.cache)}")


def rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


_marks: list[tuple[str, float]] = []


def mark(step: str) -> None:
    """Note that ``step`` is done (its CPU time is what it used since the previous mark)."""
    _marks.append((step, time.process_time()))


def trace_line() -> str:
    """Each marked step's CPU milliseconds; the first counts from the process's start."""
    parts, before = [], 0.0
    for step, cpu in _marks:
        parts.append(f"{step}={(cpu - before) * 1000:.0f}")
        before = cpu
    return f"{TRACE_MARKER} " + " ".join(parts)
