"""Tell the user when storage finds a damaged file, at start or in the middle of a session.

The vault and the settings file do not stop on a damaged file: they move it
aside (``<name>.corrupt-<time>``), carry on with an empty one and record what
they did in ``.corruption`` (a VaultCorruptError with ``moved_to``). In the
middle of a session the read that found it also raises, once, to whoever was
reading, often a background refresh that only logs it. So the watcher does
not rely on catching that exception: it looks at both stores when asked
(after manager events and failed actions) and on a slow timer, and reports
each damage once.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["DamageWatch", "describe"]

#: How often the stores are looked at when nothing else prompts a look.
CHECK_INTERVAL_MS = 2000


def describe(what: str, damage: object) -> str:
    """One paragraph for the user: what was damaged, where the file went, what was lost."""
    told = getattr(damage, "user_message", None)
    moved = getattr(damage, "moved_to", None)
    if isinstance(told, str) and told and (moved is None or str(moved) in told):
        return told  # storage's own words already say all of it
    where = f" It was moved aside to {moved}." if moved else ""
    return f"The {what} was damaged and could not be read.{where}"


class DamageWatch(QObject):
    """Signals: damaged(str) — a paragraph per newly damaged file."""

    damaged = Signal(str)

    def __init__(self, stores: Sequence[tuple[str, object]], *,
                 interval_ms: int = CHECK_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stores = list(stores)
        # The error already reported per store: a store keeps the last one it found,
        # and a new damage replaces it with a new object.
        self._reported: dict[str, object] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> list[str]:
        """Report (and return) every damage not reported yet."""
        found: list[str] = []
        for what, store in self._stores:
            damage = getattr(store, "corruption", None)
            if damage is None or self._reported.get(what) is damage:
                continue
            self._reported[what] = damage
            found.append(describe(what, damage))
        for text in found:
            self.damaged.emit(text)
        return found
