"""What the app does with an error nobody caught: log it, and say so in the window.

Uncaught exceptions (``sys.excepthook``) and failures in background tasks (the
loop's exception handler) are logged and shown, redacted, in the window's one
non-modal error box; the app keeps running. An error that stops the start is
shown in a box of its own (:func:`show_fatal`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from mcp_auth_desktop.gui.plain import message_box
from mcp_auth_desktop.gui.redact import Redactor

if TYPE_CHECKING:
    from mcp_auth_desktop.gui.main_window import MainWindow

__all__ = ["UnexpectedErrors", "show_fatal"]

log = logging.getLogger(__name__)


class UnexpectedErrors:
    """Installs the excepthook (restored by :meth:`restore`) and the loop's handler."""

    def __init__(self, redactor: Redactor, window: Callable[[], MainWindow | None]) -> None:
        self.redactor = redactor
        self._window = window
        self._saved_hook: Callable[..., Any] | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.set_exception_handler(self.on_loop_exception)
        self._saved_hook = sys.excepthook
        sys.excepthook = self.on_uncaught

    def restore(self) -> None:
        if self._saved_hook is not None:
            sys.excepthook = self._saved_hook
            self._saved_hook = None

    def on_uncaught(self, etype: type[BaseException], value: BaseException,
                    tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(etype, value, tb))
        self.show_unexpected(f"{etype.__name__}: {self.redactor(str(value))}")

    def on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = context.get("message", "unexpected error in a background task")
        log.error("%s", message, exc_info=exc if isinstance(exc, BaseException) else None)
        self.show_unexpected(
            f"{type(exc).__name__}: {self.redactor(str(exc))}" if exc is not None else message)

    def show_unexpected(self, text: str) -> None:
        window = self._window()
        if window is not None:
            window.show_error("Unexpected error",
                              f"Something unexpected went wrong: {text}\n"
                              "The app keeps running; details are in the log.")


async def show_fatal(text: str, *, can_ask: bool) -> None:
    """Log why the app cannot start and, when someone can read it, wait for the box to close."""
    log.error("cannot start: %s", text)
    box = message_box(QMessageBox.Icon.Critical, "MCP Auth Desktop cannot start", text,
                      QMessageBox.StandardButton.Close)
    done = asyncio.get_running_loop().create_future()
    if not can_ask:
        return

    def on_finished(_result: int) -> None:
        if not done.done():
            done.set_result(None)

    box.finished.connect(on_finished)
    box.open()
    await done

