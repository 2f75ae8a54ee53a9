"""How long the desktop app's event loop stalls during a refresh storm of 200 servers.

The window and the tray are the app's own (bridge, model, table, tray icon and menu) on
the contract-shaped fake manager the GUI tests use (``tests/gui/fakes.py``: each refresh
takes 50 ms of awaited "network"), under a real QApplication and qasync loop. A 10 ms
precise QTimer probes the loop: the longest gap between two of its ticks is the longest
the loop was busy with something else (plus the 10 ms), which is how long a click or a
repaint would have waited. Gaps, not lags (gap - 10 ms), are compared: idle, the lag is
0.3-4.5 ms depending on the machine's load at that moment, a baseline too close to zero
to divide by; the idle gap (10.3-14.5 ms) is not.

Two storms, each reported as its largest lag: the user refreshes all 200 servers and opens
the tray menu five times meanwhile (most of that lag is one opening of a 200-server menu);
then the same 200 servers change again in the background, 600 manager events in one turn
of the loop (their log lines, one coalesced flush). The baseline is the same probe on the
same window, idle, for as long as the user's storm took, in the same run (interleaved,
median of RUNS).

``tests/gui/test_storm.py`` asserts what keeps this figure low (coalesced flushes, no
O(servers) work per event), by counting; this module only reports the time.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable
from typing import Any

from bench.common import Result

TOPIC = "gui"
SERVERS = 200
RUNS = 5
PROBE_MS = 10
#: Targets, as ratios to the idle probe's longest gap. Measured on the shared 2-core
#: development machine: the largest lag of the user's storm 67-140 ms, of the burst 65-130 ms
#: (with the flush coalescing disabled: 190-290 ms and 260-400 ms), the idle gap 10.3-14.5 ms.
#: What keeps the figures low is asserted by counting, in tests/gui/test_storm.py.
USER_TARGET = 20.0
BURST_TARGET = 15.0


class _LagProbe:
    """A precise 10 ms timer: the longest gap between two ticks, and the lag (gap - 10 ms)."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.max_gap = 0.0
        self.ticks = 0
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self.max_gap, self.ticks = 0.0, 0
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_tick(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self._last)
        self._last = now
        self.ticks += 1


class _Gui:
    """The app's window and tray on the fake manager, as tests/gui/conftest.py builds them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        from mcp_auth_desktop.gui.actions import ServerActions
        from mcp_auth_desktop.gui.bridge import ManagerBridge
        from mcp_auth_desktop.gui.clipboard import SecretClipboard
        from mcp_auth_desktop.gui.main_window import MainWindow
        from mcp_auth_desktop.gui.preferences import Preferences
        from mcp_auth_desktop.gui.tray import TrayIcon
        from tests.gui.fakes import FakeManager

        self.manager = FakeManager(delay=0.05)
        self.ids = self.manager.seed(SERVERS)
        self.bridge = ManagerBridge(self.manager, loop=loop)
        self.bridge.start()
        prefs = Preferences(None)
        self.clipboard = SecretClipboard()
        actions = ServerActions(self.bridge, self.clipboard, prefs)
        self.window = MainWindow(self.bridge, actions, prefs, keep_running_in_tray=lambda: True,
                                 on_quit=lambda: None)
        self.tray = TrayIcon(self.bridge, actions, prefs, on_open=self.window.bring_to_front,
                             on_quit=lambda: None)
        self.window.show()
        self.tray.show()

    async def user_storm(self) -> None:
        """The user refreshes every server and opens the tray menu five times meanwhile."""
        tasks = [self.bridge.refresh(sid) for sid in self.ids]
        for _ in range(5):
            self.tray.menu.aboutToShow.emit()
            await asyncio.sleep(0.02)
        results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
        if any(r is None for r in results):
            raise RuntimeError("a refresh of the storm failed")
        await asyncio.sleep(0.15)  # the last coalesced flush (40 ms) and its repaint

    async def background_burst(self) -> None:
        """Every server refreshed by the manager itself: 600 events in one turn of the loop."""
        from mcp_auth_desktop.core.events import TokensRefreshed
        from mcp_auth_desktop.core.state import ServerState

        now = time.time()
        for sid in self.ids:
            self.manager.set_state(sid, ServerState.REFRESHING)
        for sid in self.ids:
            self.manager.set_state(sid, ServerState.SIGNED_IN, expires_at=now + 3600,
                                   last_refresh_at=now, last_refresh_result="ok")
            self.manager.emit(TokensRefreshed(sid, now, now + 3600, rotated=True))
        await asyncio.sleep(0.15)

    async def aclose(self) -> None:
        self.tray.hide()
        self.window.model.stop()
        await self.bridge.aclose()
        self.clipboard.clear_if_ours()
        self.window.close()


async def _lag(probe: _LagProbe, work: Awaitable[object]) -> tuple[float, float]:
    """The longest gap between the probe's ticks while ``work`` runs, and how long it ran."""
    probe.start()
    t0 = time.perf_counter()
    try:
        await work
    finally:
        probe.stop()
    return probe.max_gap, time.perf_counter() - t0


async def _measure(gui: _Gui) -> dict[str, list[tuple[float, float]]]:
    probe = _LagProbe()
    lags: dict[str, list[tuple[float, float]]] = {"user": [], "burst": [], "idle": []}
    await asyncio.sleep(0.5)  # the first frame and the first summary are not the storm
    for _ in range(RUNS):  # interleaved: drift in the machine's load hits all three alike
        lags["user"].append(await _lag(probe, gui.user_storm()))
        lags["burst"].append(await _lag(probe, gui.background_burst()))
        # The same probe on the same window, idle, as long as the user's storm took.
        lags["idle"].append(await _lag(probe, asyncio.sleep(lags["user"][-1][1])))
    return lags


def run() -> list[Result]:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise RuntimeError("bench_gui_storm needs a display: run it under scripts/headless.sh")
    import qasync
    from PySide6.QtWidgets import QApplication

    app: Any = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    try:
        gui = _Gui(loop)
        try:
            lags = loop.run_until_complete(asyncio.wait_for(_measure(gui), 300))
        finally:
            loop.run_until_complete(gui.aclose())
    finally:
        loop.close()

    def med(kind: str, i: int = 0) -> float:
        return float(statistics.median(x[i] for x in lags[kind]))

    idle = med("idle") * 1000
    baseline = f"the same {PROBE_MS} ms probe's longest gap, idle loop"
    lag = f"largest lag {{:.0f}} ms, idle {idle - PROBE_MS:.1f} ms; median of {RUNS}"
    return [
        Result(TOPIC, f"storm, {SERVERS} servers, tray menu opened: loop gap", med("user") * 1000,
               "ms", idle, baseline, target_ratio=USER_TARGET,
               note=lag.format(med("user") * 1000 - PROBE_MS) + f" storms ({med('user', 1):.2f} s "
                    "each); most of it is one opening of a 200-server tray menu"),
        Result(TOPIC, f"{SERVERS * 3} background events in one burst: loop gap",
               med("burst") * 1000, "ms", idle, baseline, target_ratio=BURST_TARGET,
               note=lag.format(med("burst") * 1000 - PROBE_MS) + " bursts: their log lines and "
                    "one coalesced flush (per-event O(servers) work would show here)"),
    ]

if __name__ == "__main__":
    for r in run():
        print(r.to_json())
