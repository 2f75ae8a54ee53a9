"""The lines a ``--exit-after-start`` run prints for bench/bench_gui.py and the tests.

One once the window and the tray are first shown (from the settings alone),
naming which of the deferred parts were loaded by then; one once the start has
finished, with the process's resident memory.
"""

from __future__ import annotations

import sys

__all__ = ["FIRST_FRAME_MARKER", "READY_MARKER", "first_frame_line", "ready_line", "rss_kb"]

READY_MARKER = "MCP-AUTH-DESKTOP-READY"
#: Printed (with --exit-after-start) once the window and the tray are first shown.
FIRST_FRAME_MARKER = "MCP-AUTH-DESKTOP-FIRST-FRAME"

#: What the first frame must not need: reported as loaded (1) or not (0).
DEFERRED = (("httpx", "httpx"), ("manager", "mcp_auth_desktop.core.manager"),
            ("cryptography", "cryptography"), ("keyring", "keyring"))


def first_frame_line(servers: int, tray: bool) -> str:
    loaded = " ".join(f"{name}={int(module in sys.modules)}" for name, module in DEFERRED)
    return f"{FIRST_FRAME_MARKER} servers={servers} tray={int(tray)} {loaded}"


def ready_line(servers: int, tray: bool) -> str:
    return f"{READY_MARKER} servers={servers} rss_kb={rss_kb()} tray={int(tray)}"


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
