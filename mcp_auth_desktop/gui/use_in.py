"""Per server: "Use in…" (write it into an MCP client's config) and "Copy config snippet".

Thin on purpose: every decision (files, entries, diff, backup, refusals) is
:mod:`mcp_auth_desktop.clients.setup`, the same code as ``mcp-auth
setup-client``. This module only asks which client, shows the diff, and
reports the outcome. The files are small and local, so the work is done on
the GUI thread without blocking it noticeably.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from mcp_auth_desktop.clients.targets import CLIENTS
from mcp_auth_desktop.core.errors import ClientConfigError
from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.gui.plain import message_box

if TYPE_CHECKING:
    from mcp_auth_desktop.clients import setup

__all__ = ["UseInMenus"]


class UseInMenus(QObject):
    """The "Use in…" and "Copy config snippet" submenus for the selected server.

    Signals: message(str), a sentence for the status bar.
    Attributes ``dialog``/``folder_dialog`` hold the last dialog opened (tests click them).
    """

    message = Signal(str)

    def __init__(self, selected: Callable[[], ServerView | None], parent: QWidget) -> None:
        super().__init__(parent)
        self._selected = selected
        self._parent = parent
        self.dialog: QMessageBox | None = None
        self.folder_dialog: QFileDialog | None = None
        self.use_in = QMenu("&Use in…", parent)
        self.use_in.setToolTip("Write the selected server into an MCP client's configuration")
        self.snippet = QMenu("Copy config &snippet", parent)
        self.snippet.setToolTip("Copy the configuration entry for an MCP client, to paste by hand")
        self.actions: dict[str, QAction] = {}
        for client in CLIENTS.values():
            act = self.use_in.addAction(f"{client.title}…")
            act.triggered.connect(lambda _=False, c=client.id: self.use(c))
            self.actions[client.id] = act
            copy = self.snippet.addAction(client.title)
            copy.triggered.connect(lambda _=False, c=client.id: self.copy_snippet(c))
            self.actions[f"snippet:{client.id}"] = copy
        project = self.use_in.addAction("Claude Code, in a project…")
        project.triggered.connect(lambda _=False: self.choose_project("claude-code"))
        self.actions["claude-code:project"] = project

    def set_enabled(self, enabled: bool) -> None:
        self.use_in.setEnabled(enabled)
        self.snippet.setEnabled(enabled)

    # -- copy ----------------------------------------------------------------------

    def copy_snippet(self, client_id: str) -> str | None:
        view = self._selected()
        if view is None:
            return None
        from mcp_auth_desktop.clients import setup  # on use: not before the first frame

        text = setup.snippet(client_id, entry_name=view.name, server_id=view.id, url=view.url)
        QGuiApplication.clipboard().setText(text)  # no secret in it: an id and a URL
        self.message.emit(f"{CLIENTS[client_id].title} configuration for {view.name} copied.")
        return text

    # -- use in ----------------------------------------------------------------------

    def choose_project(self, client_id: str) -> QFileDialog:
        dialog = QFileDialog(self._parent, "Choose the project folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda folder: self.use(client_id, scope="project", project=folder))
        self.folder_dialog = dialog
        dialog.open()
        return dialog

    def use(self, client_id: str, *, scope: str = "user", project: str | None = None) -> QMessageBox | None:
        """Show what would change in the client's file; write it when the user agrees."""
        view = self._selected()
        if view is None:
            return None
        title = CLIENTS[client_id].title
        from mcp_auth_desktop.clients import setup

        try:
            change = setup.plan(client_id, entry_name=view.name, server_id=view.id, url=view.url,
                                scope=scope, project=project)
        except ClientConfigError as exc:
            return self._show(QMessageBox.Icon.Warning, f"Cannot set up {title}", exc.message)
        if not change.changed:
            self.message.emit(f"{view.name} is already set up in {title}: {change.path}")
            return self._show(QMessageBox.Icon.Information, f"Already set up in {title}",
                              f"{change.path} already has “{view.name}”; nothing to change.")
        box = self._show(QMessageBox.Icon.Question, f"Use {view.name} in {title}?",
                         f"{'Add' if change.action == 'add' else 'Update'} “{view.name}” in "
                         f"{change.path}?\nA backup of the file is made first.",
                         buttons=QMessageBox.StandardButton.Apply | QMessageBox.StandardButton.Cancel)
        box.setDetailedText(change.diff())
        box.finished.connect(lambda result: self._decided(change, result))
        return box

    def _decided(self, change: setup.Change, result: int) -> None:
        if result != QMessageBox.StandardButton.Apply:
            self.message.emit("Nothing was changed.")
            return
        from mcp_auth_desktop.clients import setup

        try:
            backup = setup.apply(change)
        except ClientConfigError as exc:
            self._show(QMessageBox.Icon.Warning, f"Cannot set up {change.client.title}", exc.message)
            self.message.emit(exc.message)
            return
        note = f" (backup: {backup.name})" if backup else ""
        self.message.emit(f"{change.summary()}{note}. Restart {change.client.title} to use it.")

    def _show(self, icon: QMessageBox.Icon, title: str, text: str,
              buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok) -> QMessageBox:
        # A diff of config files and server names: plain text, never markup (issue 15 #1).
        box = message_box(icon, title, text, buttons, self._parent)
        self.dialog = box
        box.open()
        return box
