"""Fixtures for the desktop app's widget tests.

pytest-qt has no asyncio integration, so each test gets a qasync event loop
on pytest-qt's QApplication. Tests drive it with ``run(loop, coro)``
(``loop.run_until_complete``, which runs the Qt event loop underneath, so
widgets repaint and timers fire while coroutines wait) and poll with
``until``. The fixture cancels leftover tasks and closes the loop, so no
"Task was destroyed" or unclosed-loop warning escapes (filterwarnings=error).
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
import shiboken6
from PySide6.QtWidgets import QApplication

from mcp_auth_desktop.gui.actions import ServerActions
from mcp_auth_desktop.gui.bridge import ManagerBridge
from mcp_auth_desktop.gui.clipboard import SecretClipboard
from mcp_auth_desktop.gui.main_window import MainWindow
from mcp_auth_desktop.gui.preferences import Preferences
from mcp_auth_desktop.gui.tray import TrayIcon
from tests.gui.fakes import FakeManager

T = TypeVar("T")

def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/gui needs a display: mark it ``gui``."""
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _isolated_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Autostart files and Qt settings go to a temporary folder, never the real one."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread(qapp: QApplication) -> Iterator[None]:
    """As in the app (gui/gc_guard.py): never let a worker thread destroy a Qt object.

    Automatic collection is off during a GUI test (the collector's timer runs it on
    this thread instead) and everything left over is collected here, on this thread.
    """
    from mcp_auth_desktop.gui.gc_guard import GuiThreadCollector

    collector = GuiThreadCollector()
    collector.start()
    try:
        yield
    finally:
        collector.stop()
        collector.deleteLater()
        gc.collect()


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    # As in the app: closing the last window must not stop the loop under a test.
    qapp.setQuitOnLastWindowClosed(False)
    ev = qasync.QEventLoop(qapp)
    hook = sys.excepthook
    try:
        yield ev
    finally:
        pending = [t for t in asyncio.all_tasks(ev) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            ev.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        ev.run_until_complete(ev.shutdown_asyncgens())
        ev.close()
        sys.excepthook = hook


def run(loop: asyncio.AbstractEventLoop, aw: Awaitable[T], timeout: float = 10.0) -> T:
    """Run ``aw`` on the qasync loop (Qt events are processed meanwhile)."""

    async def bounded() -> T:
        return await asyncio.wait_for(aw, timeout)

    return loop.run_until_complete(bounded())


async def until(predicate: Callable[[], Any], within: float = 5.0, what: str = "") -> None:
    """Wait (pumping the loop) until ``predicate()`` is true, or fail after ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


def started(desktop: Any) -> bool:
    """The app's window is up and its start finished (the first frame comes from the
    settings alone; the manager takes over right after it)."""
    return (desktop.startup_seconds is not None and desktop.window is not None
            and desktop.window.isVisible())


async def settle(ms: int = 80) -> None:
    """Let coalescing timers (the bridge flushes every 40 ms) fire."""
    await asyncio.sleep(ms / 1000)


@dataclass
class Gui:
    manager: Any
    bridge: ManagerBridge
    clipboard: SecretClipboard
    prefs: Preferences
    actions: ServerActions
    window: MainWindow
    tray: TrayIcon
    loop: qasync.QEventLoop
    quit_requests: list[int]


@pytest.fixture
def make_gui(qtbot: Any, loop: qasync.QEventLoop) -> Iterator[Callable[..., Gui]]:
    made: list[Gui] = []

    def make(manager: Any = None, *, seed: int = 0,
             url_opener: Callable[[str], None] | None = None) -> Gui:
        manager = manager or FakeManager()
        if seed:
            manager.seed(seed)
        bridge = ManagerBridge(manager, loop=loop, url_opener=url_opener)
        bridge.start()
        prefs = Preferences(None)
        clipboard = SecretClipboard()
        actions = ServerActions(bridge, clipboard, prefs)
        quits: list[int] = []
        window = MainWindow(bridge, actions, prefs, keep_running_in_tray=lambda: True,
                            on_quit=lambda: quits.append(1))
        qtbot.addWidget(window)
        tray = TrayIcon(bridge, actions, prefs, on_open=window.bring_to_front,
                        on_quit=lambda: quits.append(1))
        gui = Gui(manager, bridge, clipboard, prefs, actions, window, tray, loop, quits)
        made.append(gui)
        return gui

    yield make
    for gui in made:
        if shiboken6.isValid(gui.tray):
            gui.tray.hide()
        if shiboken6.isValid(gui.window):
            gui.window.model.stop()
        loop.run_until_complete(gui.bridge.aclose())
        gui.clipboard.clear_if_ours()


# The window on the REAL manager, for every module here (they build on Gui and run above,
# hence imported last).
from tests.gui.real_manager_fixtures import file_gui, home, mock, real_gui, watcher  # noqa: E402, F401
