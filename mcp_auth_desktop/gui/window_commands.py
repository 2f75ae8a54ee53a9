"""What the main window's per-server commands do: they act on the selected server
through :class:`ServerActions` and show the outcome (reports, confirmations,
the rename box); nothing here awaits in a slot, so the loop keeps running."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.gui.bridge import Tool
from mcp_auth_desktop.gui.plain import message_box, set_box_informative
from mcp_auth_desktop.gui.window_host import WindowParts

if TYPE_CHECKING:
    # Annotations only (start-up cost: the first frame needs no report; core/revocation_text.py).
    from mcp_auth_desktop.core.revocation_text import RevocationReport

__all__ = ["ServerCommandsMixin"]


class ServerCommandsMixin(WindowParts):
    """The Sign in, Refresh, Copy, Test, Revoke, Rename, Remove and Forget commands."""

    def sign_in_selected(self) -> asyncio.Task[ServerView | None] | None:
        sid = self.selected_id()
        if sid is None:
            return None
        if self.bridge.cancel(sid, "sign-in"):
            return None
        return self.server_actions.sign_in(sid)

    def re_register_selected(self) -> asyncio.Task[ServerView | None] | None:
        sid = self.selected_id()
        return self.server_actions.re_register(sid) if sid else None

    def refresh_selected(self) -> asyncio.Task[ServerView | None] | None:
        sid = self.selected_id()
        return self.server_actions.refresh(sid) if sid else None

    def copy_selected(self) -> asyncio.Task[bool] | None:
        sid = self.selected_id()
        return self.server_actions.copy_token(sid) if sid else None

    def test_selected(self) -> asyncio.Task[None] | None:
        sid = self.selected_id()
        return self.server_actions.test(sid) if sid else None

    def revoke_selected(self) -> asyncio.Task[RevocationReport | None] | None:
        sid = self.selected_id()
        if sid is None:
            return None
        task = self.server_actions.revoke(sid)
        self.bridge.spawn(self._report_when_done(task, "Sign-out"))
        return task

    def rename_selected(self) -> QInputDialog | None:
        """Ask for a new name (the current one filled in); a taken name is refused with the reason."""
        view = self.selected_view()
        if view is None:
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename server")
        dialog.setLabelText("New name:")  # fixed text: the server's name goes in the edit field
        dialog.setTextValue(view.name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda text, sid=view.id, old=view.name:
                                         self._rename(sid, old, text))
        self.rename_dialog = dialog
        dialog.open()
        return dialog

    def _rename(self, server_id: str, old: str, text: str) -> None:
        self.rename_dialog = None
        if text.strip() and text.strip() != old:
            self.bridge.rename(server_id, text.strip())

    def remove_selected(self) -> QMessageBox | None:
        view = self.selected_view()
        if view is None:
            return None
        box = message_box(
            QMessageBox.Icon.Question,
            "Remove server?",
            f"Remove “{view.name}”?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        set_box_informative(box,
            "Its tokens are revoked at the server where possible, then everything this app "
            "keeps about it is deleted."
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Remove")
        sid = view.id
        box.finished.connect(lambda result, s=sid: self._on_confirm_remove(s, result))
        self.confirm_box = box
        box.open()
        return box

    def forget_everything(self) -> QMessageBox:
        """Ask, then remove every server and delete the vault; the app closes afterwards."""
        box = message_box(QMessageBox.Icon.Warning, "Forget everything?",
                          "Remove every server and delete the encrypted vault and its key?",
                          QMessageBox.StandardButton.Cancel, self)
        set_box_informative(box,
            "“Revoke and forget” first revokes your tokens at each server (where it can), then "
            "deletes everything this app keeps. “Forget here only” deletes without contacting "
            "the servers. The app closes afterwards; your settings are kept."
        )
        revoke = box.addButton("Revoke and forget", QMessageBox.ButtonRole.DestructiveRole)
        local = box.addButton("Forget here only", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.forget_revoke_button, self.forget_local_button = revoke, local

        def on_finished(_result: int) -> None:
            clicked = box.clickedButton()
            self.confirm_box = None
            box.deleteLater()
            if clicked in (revoke, local):
                task = self.bridge.forget_everything(revoke=clicked is revoke)
                self.bridge.spawn(self._after_forget(task))

        box.finished.connect(on_finished)
        self.confirm_box = box
        box.open()
        return box

    async def _after_forget(self, task: asyncio.Task[list[tuple[str, str]] | None]) -> None:
        outcome = await task
        if outcome is None:
            return  # the failure was shown; nothing was deleted that the user cannot see
        lines = [f"{name}: {text}" for name, text in outcome] or ["No servers were configured."]
        box = message_box(QMessageBox.Icon.Information, "Everything is forgotten",
                          "\n".join(lines) + "\n\nThe vault and its key are deleted. "
                          "MCP Auth Desktop will now close; start it again to begin afresh.",
                          QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        self.report_box = box
        box.finished.connect(lambda _r: self._on_quit())
        box.show()

    def _on_confirm_remove(self, server_id: str, result: int) -> None:
        box, self.confirm_box = self.confirm_box, None
        if box is not None:
            box.deleteLater()
        if result != QMessageBox.StandardButton.Yes:
            return
        task = self.server_actions.remove(server_id)
        self.bridge.spawn(self._report_when_done(task, "Removal"))

    async def _report_when_done(self, task: asyncio.Task[RevocationReport | None], what: str) -> None:
        report = await task
        if report is None:
            return
        self.last_report = report
        self.show_message(f"{what}: {report.summary()}")
        box = message_box(QMessageBox.Icon.Information, what, f"{what}: {report.summary()}",
                          QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self.report_box is not None:
            self.report_box.close()
        self.report_box = box
        box.finished.connect(lambda _r, b=box: self._on_report_box_finished(b))
        box.show()  # non-modal: a report must not block the window

    def _on_report_box_finished(self, box: QMessageBox) -> None:
        if self.report_box is box:
            self.report_box = None

    def _on_tools_listed(self, server_id: str, tools: list[Tool]) -> None:
        self.details.set_tools(server_id, tools)
