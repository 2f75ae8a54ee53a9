"""Opening the user's vault after the first frame, asking what has to be asked.

The window is already up from the non-secret settings. Opening the vault may
wait for the keyring's unlock prompt (the app says so on top of the window after
a moment), may find the keyring unreachable (the user can unlock it and try
again, or quit), or may need a passphrase (asked for, and asked again when wrong).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from mcp_auth_desktop.core.errors import KeyringUnavailableError, VaultLockedError
from mcp_auth_desktop.core.ports import SecretVault
from mcp_auth_desktop.gui.icons import app_icon
from mcp_auth_desktop.gui.plain import message_box
from mcp_auth_desktop.gui.preview import (
    KEYRING_LOCKED,
    OPENING,
    PASSPHRASE,
    WAITING_FOR_KEYRING,
    SettingsPreview,
)
from mcp_auth_desktop.runtime import open_storage

if TYPE_CHECKING:
    from mcp_auth_desktop.gui.main_window import MainWindow

__all__ = ["KEYRING_NOTICE_DELAY_MS", "KEYRING_TIMEOUT", "StartCancelled", "VaultUnlock"]

log = logging.getLogger(__name__)

#: Seconds a keyring call may take: long enough to answer an unlock prompt.
KEYRING_TIMEOUT = 45.0
#: After this long opening storage, say what the app is waiting for.
KEYRING_NOTICE_DELAY_MS = 1500


class StartCancelled(Exception):
    """The user chose to quit from a question asked while starting (already told why)."""


class VaultUnlock:
    """Opens the vault for :class:`DesktopApp`; its boxes are attributes while they are up."""

    def __init__(self, window: Callable[[], MainWindow | None], can_ask: Callable[[], bool],
                 preview: Callable[[], SettingsPreview | None] = lambda: None) -> None:
        """``preview``: the rows shown until the vault is open (told what the app waits for)."""
        self._window = window
        self._can_ask = can_ask
        self._preview = preview
        #: The "keyring unavailable, try again?" box while it is up (tests look at it).
        self.keyring_box: QMessageBox | None = None
        #: "Waiting for the system keyring" while storage takes long to open.
        self.keyring_wait_box: QMessageBox | None = None

    async def open(self) -> SecretVault:
        """The user's vault, asking to retry the keyring or for a passphrase as needed."""
        from mcp_auth_desktop.storage import KeyringVaultUnavailableError

        answer: str | None = None
        error = ""
        self._on_waiting(OPENING)
        while True:
            try:
                provider = (lambda a=answer: a) if answer is not None else None
                # A Secret Service may show an unlock prompt; give the user time to answer it
                # (the loop keeps running meanwhile, so the app stays responsive).
                with self._keyring_wait_notice():
                    vault, _same_settings_file = await open_storage(
                        passphrase_provider=provider, keyring_timeout=KEYRING_TIMEOUT
                    )
                    return vault
            except KeyringVaultUnavailableError as exc:
                # The vault's key is in the keyring: no passphrase can open it, so none is
                # asked for. The user can unlock or start the keyring and try again.
                log.warning("the vault's keyring is unavailable: %s", exc.message)
                if not self._can_ask():
                    raise
                self._on_waiting(KEYRING_LOCKED)
                if not await self._ask_keyring_retry(exc.user_message):
                    raise StartCancelled("the keyring stayed unavailable; quit") from None
                self._on_waiting(WAITING_FOR_KEYRING)
                continue
            except (KeyringUnavailableError, VaultLockedError) as exc:
                new_vault = isinstance(exc, KeyringUnavailableError)
                if answer is not None:
                    error = "That passphrase did not unlock your tokens. Try again."
                message = (
                    "No system keyring is available to protect your tokens. Choose a passphrase: "
                    "your tokens are encrypted with a key derived from it, and you will be asked "
                    "for it at every start."
                    if new_vault
                    else "Your tokens are encrypted with your passphrase. Enter it to unlock them."
                )
                from mcp_auth_desktop.gui.passphrase_dialog import ask_passphrase

                self._on_waiting(PASSPHRASE)
                answer = await ask_passphrase(message, confirm=new_vault, error=error,
                                              parent=self._window())
                if answer is None:
                    raise VaultLockedError(
                        "No passphrase was given, so your tokens stay locked. Start the app again "
                        "to enter it, or use --ephemeral to try the app without saving anything."
                    ) from None

    def _on_waiting(self, because: str) -> None:
        """What the app waits for now (``preview.py``'s words): on every row, the tray (through
        the rows) and the status bar, instead of states nobody can know yet."""
        preview, window = self._preview(), self._window()
        if preview is not None:
            preview.set_waiting(because)
        if window is not None:
            window.show_locked(because)

    @contextlib.contextmanager
    def _keyring_wait_notice(self) -> Iterator[None]:
        """While the vault opens: after a moment, say that the app waits for the keyring.

        The window is already up from the settings, but the keyring may wait for its own
        unlock prompt (up to KEYRING_TIMEOUT) and nothing that needs a token works until
        then: without this the app would look stuck. The box (non-modal, on top of the
        window) is built only then: a start that opens the vault in time never pays for it.
        """
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(self._show_keyring_wait_notice)
        if self._can_ask():
            timer.start(KEYRING_NOTICE_DELAY_MS)
        try:
            yield
        finally:
            timer.stop()
            box, self.keyring_wait_box = self.keyring_wait_box, None
            if box is not None:
                box.hide()
                box.deleteLater()

    def _show_keyring_wait_notice(self) -> None:
        box = message_box(QMessageBox.Icon.Information, "MCP Auth Desktop",
                          "Waiting for the system keyring to unlock your tokens…\n\n"
                          "If it asks for your password, answer its prompt.",
                          QMessageBox.StandardButton.NoButton, window := self._window())
        box.setWindowModality(Qt.WindowModality.NonModal)
        if window is not None:
            window.show_message("Waiting for the system keyring to unlock your tokens…")
        self._on_waiting(WAITING_FOR_KEYRING)
        box.setWindowIcon(app_icon())
        self.keyring_wait_box = box
        box.show()

    async def _ask_keyring_retry(self, text: str) -> bool:
        """Explain that the keyring holding the vault key is unreachable; True to try again.

        Non-modal, on top of the window shown from the settings: the event loop and the
        window keep running while it is up, and nothing is unlocked until it is answered.
        """
        box = message_box(QMessageBox.Icon.Warning, "Your tokens are locked in the keyring",
                          text + "\n\nUnlock your keyring (or log in to it), then choose "
                          "Try again. Quit leaves everything as it is.",
                          QMessageBox.StandardButton.NoButton, self._window())
        box.setWindowModality(Qt.WindowModality.NonModal)
        retry = box.addButton("Try again", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(retry)
        box.setWindowIcon(app_icon())
        self.keyring_box = box
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_finished(_result: int) -> None:
            if not done.done():
                done.set_result(box.clickedButton() is retry)

        box.finished.connect(on_finished)
        box.show()
        try:
            return await done
        finally:
            self.keyring_box = None
            box.deleteLater()

