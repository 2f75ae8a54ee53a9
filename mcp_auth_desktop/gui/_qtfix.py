"""WORKAROUND for a reference-count bug of PySide6 6.12.0 on Python 3.11.

Measured here: every call from Python to a Qt method returning ``void``
releases one reference to ``None`` that it never took, and every
``SignalInstance.emit()`` does the same to ``True``. On Python 3.12+ these
objects are immortal and nothing happens; on 3.11 their counts run down and
the interpreter aborts ("Fatal Python error: none_dealloc") after a few
thousand calls — within minutes for a GUI that repaints a countdown every
second.

A probe at import looks for the leak. Only if it is there do we give
``None``, ``True`` and ``False`` the huge reference count that makes them
immortal on 3.12 (what the wheel evidently assumes); a fixed PySide6 or a
newer Python is left untouched. These singletons are never freed anyway,
so the extra count changes nothing else.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

__all__ = ["install", "installed"]

installed = False

# Large enough never to run down, far from overflowing a 64-bit count.
_IMMORTAL_BOOST = 1 << 40


class _Probe(QObject):
    ping = Signal(str)


def _leaks() -> bool:
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(8):
        probe.setObjectName("probe")  # a void method
        probe.ping.emit("")
    return (
        none_before - sys.getrefcount(None) >= 8 or true_before - sys.getrefcount(True) >= 8
    )


def install() -> bool:
    """Make None/True/False immortal if (and only if) PySide6 over-releases them; idempotent."""
    global installed
    if installed:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not _leaks():
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object.
        count = ctypes.c_ssize_t.from_address(id(obj))
        count.value += _IMMORTAL_BOOST
    installed = True
    return True
