"""A refresh storm of 200 servers: the work that keeps the window and the tray responsive,
counted rather than timed.

While hundreds of servers change at once, the bridge only marks each changed server dirty
and flushes the dirty set as one ``serversChanged`` at most once per coalescing interval;
everything that costs O(servers) (the tray's summary, a span of rows) runs per flush or
when the user opens the tray menu, never per event; the model is never reset. How long the
loop stalls meanwhile is a speed figure, not a test: ``bench/bench_gui_storm.py`` reports it
as a ratio to the same probe on an idle loop.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer

from mcp_auth_desktop.core.events import TokensRefreshed
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.bridge import ManagerBridge
from tests.gui.conftest import Gui, run, settle, until
from tests.gui.fakes import FakeManager

SERVERS = 200
#: The bridge's coalescing interval, as the app builds it (the default).
COALESCE_S = inspect.signature(ManagerBridge).parameters["coalesce_ms"].default / 1000


class _Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


@dataclass
class StormCounters:
    """What the GUI did, counted: each O(servers) read of the manager's snapshot, each flush
    (with its time and ids), each span of rows the model announced, each reset, each paint
    of the table, and each tick of the tray's and the model's own timers (they read too)."""

    gui: Gui
    reads: int = 0
    flushes: list[tuple[float, list[str]]] = field(default_factory=list)
    row_spans: list[tuple[int, int]] = field(default_factory=list)
    resets: int = 0
    tray_ticks: int = 0
    model_ticks: int = 0
    paints: _Paints = field(default_factory=_Paints)

    def __post_init__(self) -> None:
        gui, manager = self.gui, self.gui.manager
        servers = manager.servers

        def counted() -> Any:
            self.reads += 1
            return servers()

        manager.servers = counted  # every snapshot of all servers goes through the manager
        gui.bridge.serversChanged.connect(lambda ids: self.flushes.append((time.perf_counter(), ids)))
        model = gui.window.model
        width = model.columnCount() - 1
        model.dataChanged.connect(
            lambda tl, br, *_: self.row_spans.append((tl.row(), br.row()))
            if tl.column() == 0 and br.column() == width else None)
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted, model.rowsRemoved):
            signal.connect(self._on_reset)
        for timer in gui.tray.findChildren(QTimer):
            timer.timeout.connect(self._on_tray_tick)
        for timer in model.findChildren(QTimer):
            timer.timeout.connect(self._on_model_tick)
        gui.window.table.viewport().installEventFilter(self.paints)

    def _on_reset(self, *_: object) -> None:
        self.resets += 1

    def _on_tray_tick(self) -> None:
        self.tray_ticks += 1

    def _on_model_tick(self) -> None:
        self.model_ticks += 1

    def __str__(self) -> str:
        return (f"reads={self.reads} flushes={[len(f) for _, f in self.flushes]} "
                f"spans={self.row_spans} resets={self.resets} paints={self.paints.count} "
                f"tray_ticks={self.tray_ticks} model_ticks={self.model_ticks}")

    def reset(self) -> None:
        self.reads = self.resets = self.tray_ticks = self.model_ticks = self.paints.count = 0
        self.flushes.clear()
        self.row_spans.clear()


def _storm_gui(make_gui: Any, qtbot: Any) -> tuple[Gui, StormCounters, list[str]]:
    manager = FakeManager(delay=0.05)
    gui = make_gui(manager, seed=SERVERS)
    gui.window.show()
    gui.tray.show()
    qtbot.waitExposed(gui.window)
    return gui, StormCounters(gui), [v.id for v in manager.servers()]


async def _quiet() -> None:
    """Long enough for any flush still due to come, and to show that none does."""
    await settle(int(COALESCE_S * 1000 * 3))


def test_600_background_events_in_one_burst_cost_one_flush_and_one_read(
        make_gui: Any, qtbot: Any) -> None:
    """Deterministic: the burst is delivered in one turn of the loop (as a manager delivers
    what one awaited step produced), so no timer can fire inside it."""
    gui, counters, ids = _storm_gui(make_gui, qtbot)
    manager = gui.manager

    async def burst() -> None:
        await _quiet()
        counters.reset()
        now = time.time()
        for sid in ids:
            manager.set_state(sid, ServerState.REFRESHING)
        for sid in ids:
            manager.set_state(sid, ServerState.SIGNED_IN, expires_at=now + 3600,
                              last_refresh_at=now, last_refresh_result="ok", last_error=None)
            manager.emit(TokensRefreshed(sid, now, now + 3600, rotated=True))
        await until(lambda: counters.flushes, within=10, what="the flush")
        await _quiet()

    run(gui.loop, burst(), timeout=30)
    assert [ids_ for _, ids_ in counters.flushes] == [sorted(ids)]  # 600 events, one flush
    # The tray re-summarised once for the flush (and once per tick of its own timer).
    assert 1 <= counters.reads <= len(counters.flushes) + counters.tray_ticks, str(counters)
    assert counters.row_spans == [(0, SERVERS - 1)] and counters.resets == 0
    # Repainted once for the whole burst (a stray expose from the X server may add one).
    assert counters.paints.count <= 2 + counters.model_ticks, str(counters)
    assert all(v.last_refresh_result == "ok" for v in gui.window.model.views())
    assert gui.tray.tooltip_text.endswith(f"{SERVERS} of {SERVERS} server(s) signed in")


def test_a_storm_of_200_refreshes_reads_all_servers_only_per_flush_and_per_menu_opening(
        make_gui: Any, qtbot: Any) -> None:
    """The user refreshes 200 servers and opens the tray menu meanwhile: about 1000 events
    (busy, refreshing, signed in, refreshed, idle, per server)."""
    gui, counters, ids = _storm_gui(make_gui, qtbot)
    menu_sizes: list[int] = []

    async def storm() -> None:
        await _quiet()
        counters.reset()
        tasks = [gui.bridge.refresh(sid) for sid in ids]
        for _ in range(5):  # the user opens the tray menu meanwhile
            gui.tray.menu.aboutToShow.emit()
            menu_sizes.append(len(gui.tray.server_names()))
            await asyncio.sleep(0.02)
        results = await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert all(r is not None for r in results)
        await until(lambda: set().union(*(set(f) for _, f in counters.flushes)) == set(ids),
                    within=10, what="every server flushed")
        await _quiet()

    run(gui.loop, storm(), timeout=60)
    assert menu_sizes == [SERVERS] * 5
    assert len([c for c in gui.manager.calls if c[0] == "refresh"]) == SERVERS
    assert all(v.last_refresh_result == "ok" for v in gui.window.model.views())
    flushes = counters.flushes
    assert set().union(*(set(f) for _, f in flushes)) == set(ids)
    # O(servers) work: once per flush (the tray's summary), once per menu opening (its
    # rebuild) and per tick of the tray's timer; never per event.
    assert counters.reads <= len(flushes) + len(menu_sizes) + counters.tray_ticks, str(counters)
    # Coalesced: a flush waits out the interval after the one before (Qt's coarse timers
    # may fire up to 5 % early). A machine under load only spaces them further apart.
    gaps = [b - a for (a, _), (b, _) in zip(flushes, flushes[1:], strict=False)]
    assert all(gap >= 0.9 * COALESCE_S for gap in gaps), gaps
    # A flush announces one span of rows; the model is never reset.
    assert len(counters.row_spans) <= len(flushes) and counters.resets == 0
