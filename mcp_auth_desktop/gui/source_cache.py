"""The module sources PySide6 reads while the app starts: not kept, and not read whole.

Once ``PySide6.QtCore`` is loaded, every import statement hands its module to
PySide6's import hook (``shibokensupport.feature``, which serves ``from
__feature__ import ...``), and the hook reads the module's whole source with
``inspect.getsource`` to look for the word "PySide6". ``inspect`` keeps what it
read in :mod:`linecache`: some 9 MiB of source lines by the end of the start,
which nothing of ours uses (a traceback reads the lines again when it needs
them).

* :func:`answer_without_linecache` (``qt_app.make_qapplication``, so for every module
  the app imports after its QApplication) gives the hook the same answer from the
  file's bytes, read and let go: nothing lands in ``linecache``. Resident memory at
  the first frame 90.1 -> 86.4 MiB, once started 95.1 -> 94.0 MiB (200 servers,
  bench/bench_gui.py's home).
* :func:`drop_source_cache`, after each batch of imports (the first frame's, the
  runtime's), drops what was read before that (``app.py``'s own imports), so the
  allocations that follow reuse that memory instead of growing the heap; dropped
  only at the end, it would leave holes (bench/bench_gui.py).
"""

from __future__ import annotations

import linecache
import sys
from types import ModuleType

__all__ = ["answer_without_linecache", "drop_source_cache", "uses_pyside"]


def drop_source_cache() -> None:
    linecache.clearcache()


def uses_pyside(module: ModuleType) -> bool:
    """What ``shibokensupport.feature._mod_uses_pyside`` answers: whether the module's
    source contains "PySide6" (False for a module without source), read from its file
    (or its loader, as ``inspect`` would for a zipped one) without ``linecache``."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return False  # an extension, a namespace or built-in module: inspect finds no source
    try:
        with open(path, "rb") as f:
            return b"PySide6" in f.read()
    except OSError:
        pass
    loader = getattr(module, "__loader__", None)
    get_source = getattr(loader, "get_source", None)
    if get_source is None:
        return False
    try:
        source = get_source(module.__name__)
    except (ImportError, OSError, SyntaxError, UnicodeDecodeError):
        return False
    return isinstance(source, str) and "PySide6" in source


def answer_without_linecache() -> bool:
    """Make PySide6's import hook use :func:`uses_pyside`; False (nothing changed) when
    PySide6 is not loaded or its hook has another shape."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]
    return True
