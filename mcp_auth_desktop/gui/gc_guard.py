"""Run Python's cyclic garbage collector on the GUI thread only.

Python collects cycles in whatever thread happens to allocate. Our keyring,
vault and httpx work runs in worker threads (qasync's executor), so a Qt
object that became garbage could otherwise be destroyed there, which Qt
forbids ("Timers cannot be stopped from another thread") and which can crash
the process later. qutebrowser solved the same problem the same way: turn the
automatic collector off and collect from a timer on the GUI thread, with
the same generation thresholds the automatic collector would use.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["GuiThreadCollector"]


class GuiThreadCollector(QObject):
    """Disables automatic GC and collects on the GUI thread every ``interval_ms``."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    def collect(self) -> int:
        """Collect the generations whose thresholds are exceeded (as automatic GC would)."""
        threshold0, threshold1, threshold2 = gc.get_threshold()
        count0, count1, count2 = gc.get_count()
        if count0 <= threshold0:
            return 0
        generation = 0
        if count1 > threshold1:
            generation = 1
            if count2 > threshold2:
                generation = 2
        return gc.collect(generation)
