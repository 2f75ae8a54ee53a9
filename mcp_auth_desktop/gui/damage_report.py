"""Telling the user about damaged storage files, found at start or later, each once."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from mcp_auth_desktop.core.ports import ManagerLike
from mcp_auth_desktop.gui.plain import message_box, set_box_informative, set_box_text

if TYPE_CHECKING:
    from mcp_auth_desktop.gui.bridge import ManagerBridge
    from mcp_auth_desktop.gui.damage_notice import DamageWatch
    from mcp_auth_desktop.gui.main_window import MainWindow

__all__ = ["DamageReport"]

log = logging.getLogger(__name__)


class DamageReport:
    """Watches the stores (:class:`DamageWatch`) and reports what it finds in the window."""

    def __init__(self, window: MainWindow, *, parent: QObject) -> None:
        self.window = window
        self._parent = parent
        self.damage: DamageWatch | None = None
        #: The "damaged storage file" box while it is up.
        self.damage_box: QMessageBox | None = None
        self._stopped = False

    def watch(self, manager: ManagerLike, bridge: ManagerBridge, stores: list[tuple[str, object]]) -> None:
        """Report damaged storage files found at start and later, each once."""
        from mcp_auth_desktop.gui.damage_notice import DamageWatch

        self.damage = DamageWatch(stores, parent=self._parent)
        self.damage.damaged.connect(self._on_damage)
        # A damaged file is found by a read: look right after anything that read.
        manager.subscribe(lambda _event: QTimer.singleShot(0, self._check_damage))
        bridge.actionFailed.connect(lambda *_: self._check_damage())
        self.damage.check()
        self.damage.start()

    def stop(self) -> None:
        self._stopped = True
        if self.damage is not None:
            self.damage.stop()

    def _check_damage(self) -> None:
        if self.damage is not None and not self._stopped:
            self.damage.check()

    def _on_damage(self, text: str) -> None:
        log.warning("%s", text)
        self.window.log_view.on_log_line(time.time(), "warning", text)
        self.window.show_message("A damaged storage file was moved aside; affected servers need "
                                 "to sign in again.")
        box = self.damage_box
        if box is None:
            box = message_box(QMessageBox.Icon.Warning, "Damaged storage file", "",
                              QMessageBox.StandardButton.Ok, self.window)
            box.setWindowModality(Qt.WindowModality.NonModal)
            set_box_informative(box,
                "Servers whose sign-in was lost show \u201csign-in needed\u201d: sign in to "
                "them again. The moved file is kept for you to inspect or delete.")
            box.finished.connect(self._on_damage_box_finished)
            self.damage_box = box
            set_box_text(box, text)
            box.show()  # non-modal: the app keeps working behind it
        else:
            set_box_text(box, box.text() + "\n\n" + text)

    def _on_damage_box_finished(self, _result: int) -> None:
        box, self.damage_box = self.damage_box, None
        if box is not None:
            box.deleteLater()

