"""The desktop app's entry point (``mcp-auth-desktop``, ``python -m mcp_auth_desktop``,
the frozen bundle): load the app in the order that starts it fastest, then run it.

What makes the start fast, measured by bench/bench_gui.py and the start-up trace
of ``--exit-after-start``:

* **The tray icon first.** :func:`load` imports only what ``app.main`` needs to make
  the QApplication, check for a running instance and show the tray icon ("starting":
  ``gui/tray.py``, ``gui/icons.py``); the window's parts (:data:`PRELOAD`, then
  ``gui.desktop_app`` with the core types the rows are made of, the settings store, the
  window) load after it, by :func:`load_window_parts`.
* Automatic garbage collection is off from the first import: the app collects on
  the GUI thread from a timer (:mod:`gc_guard`, which takes over in ``app.main``);
  left on, it would run some 65 passes (about 15 ms) over the imports alone.
* asyncio (with ssl, socket, concurrent.futures; some 20 ms) is bound lazily
  (:func:`defer_asyncio`): the window and the tray are shown before the event loop
  starts (``app.main``), so asyncio really loads only once the loop is made, after
  the first frame. The modules that ``import asyncio`` at their top hold a stand-in
  that loads it on first use.
* PySide6's import hook (``shibokensupport.feature``, which serves ``from __feature__
  import ...``) reads the whole source of every module imported after
  ``PySide6.QtCore`` through ``inspect`` and ``linecache``: from the first import on it
  gets the same answer from the file's bytes instead (``gui/source_cache.py``).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp_auth_desktop.gui.desktop_app import DesktopApp

__all__ = ["PRELOAD", "defer_asyncio", "load", "load_window_parts", "main"]

#: Imported, in this order, after the tray icon is shown: the pure-Python layers the
#: window stands on, before the window's own modules. (What ``gui.app`` itself needs,
#: such as argparse, logging and core.safetext, is in by then: :func:`load`.)
PRELOAD = (
    "mcp_auth_desktop.gui.preview",  # the settings' parse (core.snapshot), state, models, ports, errors
    "mcp_auth_desktop.runtime",
    "mcp_auth_desktop.storage.paths",  # runtime.open_settings: the first frame's store
    "mcp_auth_desktop.storage.settings",
)


#: Names that tools probe on any module (PySide6's import hook reads every module's
#: source through ``inspect``, which asks for ``__wrapped__``): answered without loading.
_NOT_A_USE = frozenset({"__wrapped__"})


class _DeferredModule(ModuleType):
    """Stands in ``sys.modules`` for a module until one of its names is first read.

    Its own ``__dict__`` holds only what the import system and ``inspect`` read
    (``__spec__``, ``__name__``, ``__file__``), so ``import asyncio`` anywhere binds this object for free; the
    first ``asyncio.<name>`` imports the real module (which replaces this one in
    ``sys.modules``), copies its names here so later reads are plain attribute reads,
    and returns the name. Writes go to the real module.
    (importlib.util.LazyLoader cannot do this on Python 3.11: every later ``import``
    statement reads ``__spec__``, which loads the module at once.)
    """

    def __getattr__(self, name: str) -> object:
        if name in _NOT_A_USE:
            raise AttributeError(name)
        real = self._load()
        return getattr(real, name)

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self._load(), name, value)
        super().__setattr__(name, value)

    def _load(self) -> ModuleType:
        name = self.__dict__["__name__"]
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return real


def defer_asyncio() -> None:
    """Bind ``asyncio`` to a :class:`_DeferredModule` (a no-op if asyncio is loaded)."""
    if "asyncio" in sys.modules:
        return
    spec = importlib.util.find_spec("asyncio")
    if spec is None:  # pragma: no cover - asyncio is always there
        return
    stand_in = _DeferredModule("asyncio")
    stand_in.__dict__.update(__spec__=spec, __file__=spec.origin)
    sys.modules["asyncio"] = stand_in


def load() -> ModuleType:
    """The app's entry module (``gui.app``), loaded as the app loads it: what the tray
    icon needs, nothing more (the rest: :func:`load_window_parts`)."""
    gc.disable()  # gui/gc_guard.py collects from here on (see the module docstring)
    defer_asyncio()
    importlib.import_module("PySide6.QtCore")
    from mcp_auth_desktop.gui.source_cache import answer_without_linecache

    answer_without_linecache()  # PySide6's import hook, for every module from here on
    return importlib.import_module("mcp_auth_desktop.gui.app")


def load_window_parts() -> type[DesktopApp]:
    """``gui.desktop_app`` and all it stands on: loaded by ``app.main`` once the tray
    icon is up."""
    for name in PRELOAD:
        importlib.import_module(name)
    from mcp_auth_desktop.gui.desktop_app import DesktopApp
    from mcp_auth_desktop.gui.source_cache import drop_source_cache

    drop_source_cache()  # what PySide6's import hook read (see gui/source_cache.py)
    return DesktopApp


def main() -> int:
    code: int = load().main()
    return code
