"""The right-click menu on a server row: every per-server action in one place.

It holds the window's own actions (the toolbar's and the Server menu's), so
what is enabled, the shortcuts and what a click does are the same wherever the
user finds them; right-clicking a row selects it first.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTableView, QWidget

__all__ = ["RowMenu"]


class RowMenu:
    """Builds and shows the row menu for ``table``; ``entries`` are actions, menus or None (a line)."""

    def __init__(self, table: QTableView, entries: Sequence[QAction | QMenu | None],
                 parent: QWidget) -> None:
        self._table = table
        self.menu = QMenu(parent)
        self.menu.setToolTipsVisible(True)
        for entry in entries:
            if entry is None:
                self.menu.addSeparator()
            elif isinstance(entry, QMenu):
                self.menu.addMenu(entry)
            else:
                self.menu.addAction(entry)

    def show_at(self, pos: QPoint) -> bool:
        """Select the row under ``pos`` (viewport coordinates) and open the menu; False off rows."""
        index = self._table.indexAt(pos)
        if not index.isValid():
            return False
        self._table.selectRow(index.row())
        self.menu.popup(self._table.viewport().mapToGlobal(pos))
        return True

    def texts(self) -> list[str]:
        """The entries' texts (submenus by title), for tests and accessibility checks."""
        return [a.text() for a in self.menu.actions() if not a.isSeparator()]
