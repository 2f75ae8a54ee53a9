"""Responsiveness: the window and the tray during a refresh storm of 200 servers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from tests.gui.conftest import run, settle
from tests.gui.fakes import FakeManager


class LagProbe:
    """A 10 ms timer; lag is how late each tick fires (the loop was busy meanwhile)."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.interval = interval_ms / 1000
        self.max_lag = 0.0
        self.ticks = 0
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_tick(self) -> None:
        now = time.perf_counter()
        self.max_lag = max(self.max_lag, now - self._last - self.interval)
        self._last = now
        self.ticks += 1


@pytest.mark.slow
def test_refresh_storm_of_200_servers_keeps_window_and_tray_responsive(make_gui: Any, qtbot: Any) -> None:
    manager = FakeManager(delay=0.05)
    gui = make_gui(manager, seed=200)
    gui.window.show()
    gui.tray.show()
    qtbot.waitExposed(gui.window)
    ids = [v.id for v in manager.servers()]
    probe = LagProbe()

    async def storm() -> None:
        probe.start()
        tasks = [gui.bridge.refresh(sid) for sid in ids]
        menu_sizes = []
        for _ in range(5):  # the user opens the tray menu meanwhile
            gui.tray.menu.aboutToShow.emit()
            menu_sizes.append(len(gui.tray.server_names()))
            gui.window.table.viewport().repaint()
            await asyncio.sleep(0.02)
        results = await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert all(r is not None for r in results)
        # And the same again as background events (manager-initiated refreshes).
        for sid in ids:
            manager.set_state(sid, manager.get(sid).state.__class__("refreshing"))
        await asyncio.sleep(0)
        for sid in ids:
            await manager.refresh(sid)
        await settle(150)
        probe.stop()
        assert menu_sizes == [200] * 5

    run(gui.loop, storm(), timeout=60)
    refreshes = [c for c in manager.calls if c[0] == "refresh"]
    assert len(refreshes) == 400
    assert all(v.last_refresh_result == "ok" for v in gui.window.model.views())
    assert probe.ticks > 10
    print(f"refresh storm (200 servers): max event-loop lag {probe.max_lag * 1000:.0f} ms")
    assert probe.max_lag < 0.5
