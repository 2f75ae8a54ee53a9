"""How many ``mcp-auth bridge`` processes use each server, for the window.

Bridges register themselves with a locked file each (:mod:`mcp_auth_desktop.bridge.presence`);
this polls that folder every couple of seconds (a few ``stat`` and lock probes) and
says when the counts change. Files of bridges that died are not counted (and deleted).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["BridgeCounter"]


class BridgeCounter(QObject):
    """Signals: countsChanged(dict server_id -> connected bridges)."""

    countsChanged = Signal(dict)

    def __init__(self, directory: Path | None = None, *, interval_ms: int = 2000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dir = directory
        self.counts: dict[str, int] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    def start(self) -> None:
        # The first look right after the first frame: it reads a folder and imports the
        # bridge's presence module, neither of which the first frame needs.
        QTimer.singleShot(0, self, self.poll)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def poll(self) -> None:
        from mcp_auth_desktop.bridge.presence import count_bridges

        counts = dict(count_bridges(self._dir))
        if counts != self.counts:
            self.counts = counts
            self.countsChanged.emit(dict(counts))
