"""What the buttons and the tray menu do, shared so both behave the same.

Each method starts a bridge task and reports the outcome through
``message`` (status bar) — the window and the tray only forward clicks.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from mcp_auth_desktop.core.stale_client import RE_REGISTER_ACTION
from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.gui.bridge import ManagerBridge, Tool
from mcp_auth_desktop.gui.clipboard import SecretClipboard
from mcp_auth_desktop.gui.preferences import Preferences

if TYPE_CHECKING:
    # Annotations only (start-up cost: the first frame needs no report; core/revocation_text.py).
    from mcp_auth_desktop.core.revocation_text import RevocationReport

__all__ = ["ServerActions"]


class ServerActions(QObject):
    """Signals:
    message(str): a sentence for the status bar.
    tokenCopied(str): server id whose token is now on the clipboard.
    toolsListed(str, list): server id and the tools its Test returned.
    """

    message = Signal(str)
    tokenCopied = Signal(str)
    toolsListed = Signal(str, list)

    def __init__(self, bridge: ManagerBridge, clipboard: SecretClipboard,
                 preferences: Preferences, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.clipboard = clipboard
        self.preferences = preferences
        clipboard.cleared.connect(lambda: self.message.emit("Copied token cleared from the clipboard."))

    def _name(self, server_id: str) -> str:
        view = self.bridge.get(server_id)
        return view.name if view else server_id

    def sign_in(self, server_id: str, *, re_register: bool = False) -> asyncio.Task[ServerView | None]:
        name = self._name(server_id)
        # What to do when the authorization server forgot this app (see core/stale_client.py):
        # its error page is in the browser, where the app cannot see it.
        self.message.emit(
            f"Signing in to {name}: finish in your browser. If the browser shows an error "
            f"about the client (such as “Invalid client_id”), cancel and choose "
            f"Server → {RE_REGISTER_ACTION}."
        )
        return self.bridge.sign_in(server_id, re_register=re_register)

    def re_register(self, server_id: str) -> asyncio.Task[ServerView | None]:
        """Register this app again at the authorization server, then sign in (once)."""
        return self.sign_in(server_id, re_register=True)

    def refresh(self, server_id: str) -> asyncio.Task[ServerView | None]:
        self.message.emit(f"Refreshing {self._name(server_id)}…")
        return self.bridge.refresh(server_id)

    def sign_out(self, server_id: str) -> asyncio.Task[RevocationReport | None]:
        self.message.emit(f"Signing out of {self._name(server_id)}…")
        return self.bridge.revoke(server_id)

    def revoke(self, server_id: str) -> asyncio.Task[RevocationReport | None]:
        return self.sign_out(server_id)

    def remove(self, server_id: str) -> asyncio.Task[RevocationReport | None]:
        self.message.emit(f"Removing {self._name(server_id)}…")
        return self.bridge.remove(server_id)

    def test(self, server_id: str) -> asyncio.Task[None]:
        task = self.bridge.test(server_id)
        return self.bridge.spawn(self._after_test(server_id, task))

    async def _after_test(self, server_id: str, task: asyncio.Task[list[Tool] | None]) -> None:
        tools = await task
        if tools is not None:
            self.toolsListed.emit(server_id, tools)

    def copy_token(self, server_id: str) -> asyncio.Task[bool]:
        prefs = self.preferences.current
        # At least a minute left, so the token still works when it is pasted.
        task = self.bridge.token(server_id, min_ttl=max(60.0, prefs.refresh_margin_seconds))
        return self.bridge.spawn(self._after_token(server_id, task))

    async def _after_token(self, server_id: str, task: asyncio.Task[str | None]) -> bool:
        token = await task
        if token is None:
            return False
        delay = self.preferences.current.clipboard_clear_seconds
        self.bridge.redactor.remember(token)
        self.clipboard.copy_secret(token, delay)
        when = f"; it is cleared in {delay:.0f} s" if delay > 0 else ""
        self.message.emit(f"Access token for {self._name(server_id)} copied{when}.")
        self.bridge.logLine.emit(time.time(), "info", f"{self._name(server_id)}: access token copied")
        self.tokenCopied.emit(server_id)
        return True
