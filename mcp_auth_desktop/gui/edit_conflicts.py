"""The edit dialog's "changed elsewhere" panel: one row per field the user and someone else
both changed while the dialog was open (``core/edit_merge.py``), each with the choice of
keeping the user's value or taking the new one. Nothing is saved until every row is decided.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QWidget

from mcp_auth_desktop.core.edit_merge import FieldConflict
from mcp_auth_desktop.gui.plain import set_plain

__all__ = ["ConflictPanel"]


def conflict_words(c: FieldConflict) -> str:
    """One conflict in a sentence (the values may be anything a person typed: shown plain)."""
    title = c.field[:1].upper() + c.field[1:]
    return (f"{title}: changed elsewhere to “{c.current}” (it was “{c.seen}” when you opened "
            f"this); you entered “{c.mine}”.")


class ConflictPanel(QGroupBox):
    """Signals: chosen(str, bool) — a field, and True to keep the user's value."""

    chosen = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Changed elsewhere while you were editing", parent)
        self.setObjectName("conflicts")
        self._grid = QGridLayout(self)
        #: Per undecided field: its sentence and its two buttons.
        self.rows: dict[str, tuple[QLabel, QPushButton, QPushButton]] = {}
        self._items: dict[str, FieldConflict] = {}
        self.hide()

    @property
    def undecided(self) -> tuple[str, ...]:
        return tuple(self.rows)

    def show_conflicts(self, conflicts: tuple[FieldConflict, ...]) -> None:
        """Add these conflicts to those still undecided (a field's latest one replaces it)."""
        items = {**self._items, **{c.field: c for c in conflicts}}
        self.clear()
        self._items = items
        for row, c in enumerate(items.values()):
            label = QLabel()
            set_plain(label, conflict_words(c))
            label.setWordWrap(True)
            keep = QPushButton("Keep mine")
            keep.setToolTip(f"Save your {c.field} over the one saved elsewhere")
            take = QPushButton("Take the new value")
            take.setToolTip(f"Use the {c.field} saved elsewhere")
            keep.clicked.connect(lambda _=False, f=c.field: self._decide(f, True))
            take.clicked.connect(lambda _=False, f=c.field: self._decide(f, False))
            self._grid.addWidget(label, row, 0)
            self._grid.addWidget(keep, row, 1)
            self._grid.addWidget(take, row, 2)
            self.rows[c.field] = (label, keep, take)
        self.setVisible(bool(self.rows))

    def texts(self) -> list[str]:
        return [label.text() for label, _, _ in self.rows.values()]

    def buttons(self, field: str) -> tuple[QPushButton, QPushButton]:
        """The field's (keep mine, take the new value) buttons."""
        _, keep, take = self.rows[field]
        return keep, take

    def clear(self) -> None:
        for widgets in self.rows.values():
            for w in widgets:
                self._grid.removeWidget(w)
                w.deleteLater()
        self.rows.clear()
        self._items.clear()
        self.hide()

    def _decide(self, field: str, keep: bool) -> None:
        widgets = self.rows.pop(field, None)
        self._items.pop(field, None)
        if widgets is None:
            return
        for w in widgets:
            self._grid.removeWidget(w)
            w.deleteLater()
        self.setVisible(bool(self.rows))
        self.chosen.emit(field, keep)
