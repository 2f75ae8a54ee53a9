"""WORKAROUND for a reference-count bug in PySide6 6.12.0's ``SignalInstance.emit``.

Every ``emit()`` made from Python releases one reference to ``True`` that it
never took. After enough emits the interpreter aborts at exit with "Fatal
Python error: bool_dealloc" (reproduced here: 100 emits of a ``Signal(str)``
with no receiver are enough). The GUI emits thousands of signals, and qasync
emits one per ``call_soon_threadsafe``.

A probe measures the leak at import; only if it is there is ``emit`` wrapped
to give the reference back, so a fixed PySide6 is left untouched.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

__all__ = ["install", "installed"]

installed = False


class _Probe(QObject):
    ping = Signal(str)


def _leak_per_emit() -> int:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(4):
        probe.ping.emit("")
    after = sys.getrefcount(True)
    leaked = (before - after) // 4
    if leaked > 0:
        # Give back what the probe itself took.
        for _ in range(before - after):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return leaked


def install() -> bool:
    """Wrap ``SignalInstance.emit`` if (and only if) it leaks; idempotent."""
    global installed
    if installed:
        return True
    leaked = _leak_per_emit()
    if leaked <= 0:
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    true_obj = ctypes.py_object(True)

    def emit(self: SignalInstance, *args: Any) -> Any:
        try:
            return original(self, *args)
        finally:
            for _ in range(leaked):
                incref(true_obj)

    SignalInstance.emit = emit  # type: ignore[method-assign]
    installed = True
    return True
