"""Issue 17 "Faster start": how the app loads before its first frame.

``gui/entry.py`` defers automatic garbage collection and loads only what the tray
icon needs before showing it ("starting"), then the window's parts (the pure-Python
layers first); ``gui/source_cache.py`` drops what PySide6's import hook left in
``linecache``; an ``--exit-after-start`` run prints its start-up trace. Each is
checked in a fresh interpreter, as the app starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcp_auth_desktop.gui.start_report import READY_MARKER, TRACE_MARKER, TRAY_MARKER

REPO = Path(__file__).resolve().parents[2]
# No "event_loop" step: the first frame is shown before the loop is made (app.main).
STEPS = ("imports", "qapplication", "single_instance", "tray_icon", "window_imports",
         "settings", "bridge", "window", "tray", "shown")

#: What the tray icon must not wait for: the window, the core types, the settings store,
#: PySide6's Qt namespace (its ~90 enums cost some 20 ms), the HTTP stack.
_NOT_FOR_THE_TRAY = ("mcp_auth_desktop.gui.desktop_app", "mcp_auth_desktop.gui.main_window",
                     "mcp_auth_desktop.gui.bridge", "mcp_auth_desktop.core.state",
                     "mcp_auth_desktop.core.registry", "mcp_auth_desktop.storage.settings",
                     "httpx", "asyncio.base_events")

_PROBE = """
import gc, json, sys
from mcp_auth_desktop.gui.entry import PRELOAD, load, load_window_parts
load()
names = list(sys.modules)
from PySide6 import QtCore
qt_made = "Qt" in vars(QtCore)  # PySide6 makes the namespace type on first use
gc_on = gc.isenabled()
load_window_parts()
after = list(sys.modules)
print(json.dumps({"gc": gc_on, "app": "mcp_auth_desktop.gui.app" in names, "qt_made": qt_made,
                  "loaded": [n for n in sys.argv[1:] if n in names],
                  "parts": all(n in after for n in PRELOAD + ("mcp_auth_desktop.gui.desktop_app",))}))
"""


def test_the_entry_loads_what_the_tray_needs_then_the_window_parts() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE, *_NOT_FOR_THE_TRAY], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["app"] is True
    assert seen["gc"] is False  # gui/gc_guard.py's timer collects once the app runs
    assert seen["loaded"] == [], f"loaded before the tray icon: {seen['loaded']}"
    assert seen["qt_made"] is False
    assert seen["parts"] is True


def test_a_start_drops_the_sources_pyside_read_and_traces_its_steps(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = {**os.environ, "MCP_AUTH_DESKTOP_HOME": str(home), "MCP_AUTH_DESKTOP_KEYRING": "memory"}
    done = subprocess.run([sys.executable, "-m", "mcp_auth_desktop", "--exit-after-start"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The tray icon is shown first, before the window's modules and the settings load.
    tray = next(i for i, line in enumerate(lines) if line.startswith(TRAY_MARKER))
    assert "tray=1" in lines[tray] and "manager=0" in lines[tray], lines[tray]
    assert tray < next(i for i, line in enumerate(lines) if line.startswith("MCP-AUTH-DESKTOP-FIRST"))
    trace = next(line for line in lines if line.startswith(TRACE_MARKER))
    steps = dict(part.split("=", 1) for part in trace.split()[1:])
    assert tuple(steps) == STEPS
    assert all(ms.isdigit() for ms in steps.values())
    ready = next(line for line in lines if line.startswith(READY_MARKER))
    fields = dict(part.split("=", 1) for part in ready.split()[1:])
    # Without the drops, linecache holds the source of every module imported after
    # PySide6 (some 280 files once started); with them, only what came in since the last.
    assert int(fields["sources"]) <= 20, ready


_DEFERRED_PROBE = """
import json, sys, types
from mcp_auth_desktop.gui.entry import load
load()
before = "asyncio.base_events" in sys.modules or "ssl" in sys.modules
from mcp_auth_desktop.storage import filelock  # imported asyncio (the stand-in) during load()
held = filelock.asyncio
ran = held.run(held.sleep(0, result="ran"))  # the first use loads the real asyncio
import asyncio
import asyncio.subprocess
print(json.dumps({"before": before, "ran": ran, "real": type(asyncio) is types.ModuleType,
                  "same_lock": held.Lock is asyncio.Lock, "ssl": "ssl" in sys.modules,
                  "sub": asyncio.subprocess.__name__}))
"""


def test_asyncio_loads_on_first_use_not_with_the_app() -> None:
    done = subprocess.run([sys.executable, "-c", _DEFERRED_PROBE], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"before": False, "ran": "ran", "real": True, "same_lock": True, "ssl": True,
                    "sub": "asyncio.subprocess"}
