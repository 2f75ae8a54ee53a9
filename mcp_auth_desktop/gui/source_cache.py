"""Dropping the module sources PySide6 reads while the app starts.

Once ``PySide6.QtCore`` is loaded, every import statement hands its module to
PySide6's import hook (``shibokensupport.feature``, which serves ``from
__feature__ import ...``), and the hook reads the module's whole source with
``inspect.getsource`` to look for the word "PySide6". ``inspect`` keeps what it
read in :mod:`linecache`: some 9 MiB of source lines by the end of the start,
which nothing of ours uses (a traceback reads the lines again when it needs
them). Dropping the cache after each batch of imports (the first frame's, the
runtime's) lets the allocations that follow reuse that memory instead of growing
the heap; dropped only at the end, it would leave holes (bench/bench_gui.py).
"""

from __future__ import annotations

import linecache

__all__ = ["drop_source_cache"]


def drop_source_cache() -> None:
    linecache.clearcache()
