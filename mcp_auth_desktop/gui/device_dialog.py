"""Sign in with a code (RFC 8628 device authorization) from the window, for remote desktops.

When this app runs on a machine whose browser is not the user's (a remote desktop, a VM),
the loopback redirect of a browser sign-in cannot come back. This non-modal dialog shows
the address to open on any device and the code to enter there, with Copy buttons and
"Open in browser" (for when a browser here does work), a countdown to the code's expiry
and how often the server was asked; Cancel stops the asking. How it ended (signed in,
denied, expired, cancelled) is said in words. The address and the code come from the
authorization server: validated by the core (``core/device_grant.py``) and shown here as
plain text only (``gui/plain.py``).
"""

from __future__ import annotations

import asyncio
import time

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mcp_auth_desktop.core.device_grant import DeviceAuthorization
from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.gui.bridge import ManagerBridge
from mcp_auth_desktop.gui.plain import set_plain

__all__ = ["DeviceSignInDialog"]


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


class DeviceSignInDialog(QDialog):
    """One sign-in with a code for one server; started at once, ended by the bridge's task."""

    def __init__(self, bridge: ManagerBridge, view: ServerView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.server_id = view.id
        self.name = view.name
        self.authorization: DeviceAuthorization | None = None
        #: Monotonic time the code stops working (None until it is shown).
        self.deadline: float | None = None
        #: How it ended: "signed-in", "failed" or "cancelled" (None while running).
        self.ended: str | None = None
        self._failure: str | None = None
        self.setWindowTitle(f"Sign in to {view.name} with a code")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setMinimumWidth(480)

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        set_plain(self.intro, f"Asking the authorization server of {view.name} for a code…")
        self.address = QLabel()
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address.setAccessibleName("Address to open")
        self.code = QLabel()
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code.setAccessibleName("Code to enter")
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(font.pointSize() + 8)
        font.setBold(True)
        self.code.setFont(font)
        self.copy_address = QPushButton("Copy")
        self.copy_address.setToolTip("Copy the address")
        self.copy_code = QPushButton("Copy")
        self.copy_code.setToolTip("Copy the code")
        self.open_button = QPushButton("Open in browser")
        self.open_button.setToolTip("Open the address in this machine's browser (the code is "
                                    "filled in where the server allows it)")
        grid = QGridLayout()
        grid.addWidget(QLabel("Address:"), 0, 0)
        grid.addWidget(self.address, 0, 1)
        grid.addWidget(self.copy_address, 0, 2)
        grid.addWidget(QLabel("Code:"), 1, 0)
        grid.addWidget(self.code, 1, 1)
        grid.addWidget(self.copy_code, 1, 2)
        grid.addWidget(self.open_button, 2, 1)
        for w in (self.copy_address, self.copy_code, self.open_button):
            w.setEnabled(False)
        self.expiry = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("status")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setToolTip("Stop waiting: the app stops asking the server")
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(grid)
        layout.addWidget(self.expiry)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

        self.copy_address.clicked.connect(lambda: self._copy(self.address.text(), "address"))
        self.copy_code.clicked.connect(lambda: self._copy(self.code.text(), "code"))
        self.open_button.clicked.connect(self._open)
        self.buttons.rejected.connect(self._on_button)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_expiry)
        bridge.deviceCode.connect(self._on_code)
        bridge.devicePolling.connect(self._on_polling)
        bridge.actionFailed.connect(self._on_failed)
        self.task = bridge.sign_in_with_code(view.id)
        self._watch = bridge.spawn(self._wait())

    # --- what the sign-in says --------------------------------------------------------

    def _on_code(self, server_id: str, auth: DeviceAuthorization) -> None:
        if server_id != self.server_id or self.ended is not None:
            return
        self.authorization = auth
        self.deadline = time.monotonic() + auth.expires_in
        set_plain(self.intro, f"To sign in to {self.name}, open this address in a browser on any "
                              "device and enter the code. This window waits for your approval.")
        set_plain(self.address, auth.verification_uri)
        set_plain(self.code, auth.user_code)
        for w in (self.copy_address, self.copy_code, self.open_button):
            w.setEnabled(True)
        set_plain(self.status, "Waiting for your approval…")
        self._update_expiry()
        self._tick.start()

    def _on_polling(self, server_id: str, asked: int, wait: float) -> None:
        if server_id != self.server_id or self.ended is not None:
            return
        times = "once" if asked == 1 else f"{asked} times"
        asked_text = f"asked the server {times}" if asked else "not asked the server yet"
        set_plain(self.status, f"Waiting for your approval: {asked_text}; next in {round(wait)} s.")

    def _update_expiry(self) -> None:
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        set_plain(self.expiry, f"The code expires in {_clock(left)}." if left > 0
                  else "The code has expired.")

    async def _wait(self) -> None:
        # wait(), not await: the sign-in being cancelled is an ending to show, while this
        # watcher being cancelled (the bridge closing) must end it too.
        await asyncio.wait({self.task})
        if not shiboken6.isValid(self):
            return  # the window went first
        view = None if self.task.cancelled() else self.task.result()
        if view is not None:
            self._end("signed-in", f"Signed in to {view.name}.")
        elif self.ended is None:
            # The manager's words (denied, expired, unreachable…), kept by _on_failed.
            self._end("failed", self._failure or f"The sign-in to {self.name} did not finish.")

    def _on_failed(self, server_id: str, action: str, message: str) -> None:
        if server_id == self.server_id and action == "sign-in" and self.ended is None:
            self._failure = message

    def _end(self, how: str, words: str) -> None:
        self.ended = how
        self._tick.stop()
        self.progress.hide()
        set_plain(self.status, words)
        self.status.setStyleSheet("" if how == "signed-in" else "color: #d93636")
        self.cancel_button.setText("Close")
        self.cancel_button.setToolTip("")
        if how != "signed-in":
            self.expiry.clear()
        for w in (self.copy_address, self.copy_code, self.open_button):
            w.setEnabled(False)

    # --- the user's buttons -------------------------------------------------------------

    def _copy(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        set_plain(self.status, f"The {what} is on the clipboard. Waiting for your approval…")

    def _open(self) -> None:
        auth = self.authorization
        if auth is not None:
            self.bridge.open_url(auth.verification_uri_complete or auth.verification_uri)

    def _on_button(self) -> None:
        """Cancel while waiting (the dialog stays to say so), Close afterwards."""
        if self.ended is None:
            self.cancel_sign_in()
        else:
            self.reject()

    def cancel_sign_in(self) -> None:
        """Stop the sign-in: its task ends, and with it the asking at the server."""
        if self.ended is not None:
            return
        self.ended = "cancelled"  # first: the task's end must not read as a failure
        self.bridge.cancel(self.server_id, "sign-in")
        self._end("cancelled", f"Cancelled: this app stopped asking the server; the code no "
                               f"longer signs this app in to {self.name}.")

    def reject(self) -> None:
        """Closed (Escape, the title bar, Close): a sign-in still waiting is cancelled first."""
        self.cancel_sign_in()
        self._tick.stop()
        super().reject()

    def close_quietly(self) -> None:
        self.reject()
