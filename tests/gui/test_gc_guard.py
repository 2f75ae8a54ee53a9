"""The collector runs cyclic GC on the GUI thread only (see gui/gc_guard.py)."""

from __future__ import annotations

import gc
import threading
from typing import Any

from mcp_auth_desktop.gui.gc_guard import GuiThreadCollector


class _Cycle:
    def __init__(self, seen: list[str]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def test_cycles_are_collected_on_the_gui_thread_not_in_workers(qapp: Any) -> None:
    collector = GuiThreadCollector()
    collector.start()
    try:
        assert not gc.isenabled()
        seen: list[str] = []
        for _ in range(50):
            _Cycle(seen)

        def allocate() -> None:  # would trigger automatic GC in this worker thread
            junk = [[i] for i in range(200_000)]
            del junk

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert seen == []  # nothing collected in the worker
        collected = 0
        for _ in range(gc.get_threshold()[0] + 10):  # push generation 0 over its threshold
            _Cycle(seen)
            collected += collector.collect()
        assert collected > 0  # the timer's job, done here by hand
        assert seen and set(seen) == {threading.current_thread().name}
    finally:
        collector.stop()
    assert gc.isenabled()
