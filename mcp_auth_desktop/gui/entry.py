"""The desktop app's entry point (``mcp-auth-desktop``, ``python -m mcp_auth_desktop``,
the frozen bundle): load the app in the order that starts it fastest, then run it.

Two things make the imports before the first frame cheaper, both measured by
bench/bench_gui.py and the start-up trace of ``--exit-after-start``:

* Automatic garbage collection is off from the first import: the app collects on
  the GUI thread from a timer (:mod:`gc_guard`, which takes over in ``app.main``);
  left on, it would run some 65 passes (about 15 ms) over the imports alone.
* The pure-Python layers the first frame stands on (asyncio, the core types the
  rows are made of, the settings store) are imported before PySide6. Once
  ``PySide6.QtCore`` is loaded, it looks at every later import for PySide6 use by
  reading the module's whole source (``shibokensupport.feature``, which serves
  ``from __feature__ import ...``); a module loaded before PySide6 is never read.
"""

from __future__ import annotations

import gc
import importlib
from types import ModuleType

__all__ = ["PRELOAD", "load", "main"]

#: Imported, in this order, before any module that imports PySide6.
PRELOAD = (
    "asyncio",
    "argparse",
    "logging",
    "shlex",
    "mcp_auth_desktop.core.childenv",
    "mcp_auth_desktop.core.safetext",
    "mcp_auth_desktop.gui.preview",  # the core registry, state, models, ports and errors
    "mcp_auth_desktop.runtime",
    "mcp_auth_desktop.storage.paths",  # runtime.open_settings: the first frame's store
    "mcp_auth_desktop.storage.settings",
)


def load() -> ModuleType:
    """The app's entry module (``gui.app``), loaded as the app loads it."""
    gc.disable()  # gui/gc_guard.py collects from here on (see the module docstring)
    for name in PRELOAD:
        importlib.import_module(name)
    app = importlib.import_module("mcp_auth_desktop.gui.app")
    from mcp_auth_desktop.gui.source_cache import drop_source_cache

    drop_source_cache()  # what PySide6's import hook read (see gui/source_cache.py)
    return app


def main() -> int:
    code: int = load().main()
    return code
