"""Issue 17 "Faster start": how the app loads before its first frame.

``gui/entry.py`` defers automatic garbage collection and imports the pure-Python
layers before PySide6 (whose import hook reads the source of every module imported
after it); ``gui/source_cache.py`` drops what that hook left in ``linecache``; an
``--exit-after-start`` run prints its start-up trace. Each is checked in a fresh
interpreter, as the app starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcp_auth_desktop.gui.start_report import READY_MARKER, TRACE_MARKER

REPO = Path(__file__).resolve().parents[2]
# No "event_loop" step: the first frame is shown before the loop is made (app.main).
STEPS = ("imports", "qapplication", "single_instance", "settings", "bridge", "window",
         "tray_icon", "shown")

_PROBE = """
import gc, json, sys
from mcp_auth_desktop.gui.entry import PRELOAD, load
load()
names = list(sys.modules)
print(json.dumps({"gc": gc.isenabled(), "qt": names.index("PySide6.QtCore"),
                  "preload": {n: names.index(n) for n in PRELOAD},
                  "app": "mcp_auth_desktop.gui.app" in sys.modules}))
"""


def test_the_entry_defers_collection_and_loads_pure_python_layers_before_pyside6() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["app"] is True
    assert seen["gc"] is False  # gui/gc_guard.py's timer collects once the app runs
    late = {name: at for name, at in seen["preload"].items() if at > seen["qt"]}
    assert not late, f"imported after PySide6.QtCore: {late}"


def test_a_start_drops_the_sources_pyside_read_and_traces_its_steps(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = {**os.environ, "MCP_AUTH_DESKTOP_HOME": str(home), "MCP_AUTH_DESKTOP_KEYRING": "memory"}
    done = subprocess.run([sys.executable, "-m", "mcp_auth_desktop", "--exit-after-start"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
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
