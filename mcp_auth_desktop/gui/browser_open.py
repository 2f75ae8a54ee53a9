"""Opening a sign-in link: the system browser (honouring $BROWSER), else the desktop's default."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtGui import QDesktopServices

from mcp_auth_desktop.core.errors import McpAuthError

__all__ = ["open_in_browser"]

log = logging.getLogger(__name__)


def open_in_browser(url: str, spawn: Callable[[Coroutine[Any, Any, None]], object] | None) -> None:
    """The system browser (through core.browser when it exists), started on ``spawn``."""
    try:
        browser = importlib.import_module("mcp_auth_desktop.core.browser").SystemBrowser()
    except (ImportError, AttributeError):
        _open_with_qt(url)
        return
    if spawn is not None:
        spawn(_open_with(browser, url))


async def _open_with(browser: Any, url: str) -> None:
    try:
        await browser.open(url)
    except (McpAuthError, OSError) as exc:
        log.info("could not start the browser (%s); trying the desktop's default", exc)
        _open_with_qt(url)


def _open_with_qt(url: str) -> None:
    from PySide6.QtCore import QUrl

    if not QDesktopServices.openUrl(QUrl(url)):
        log.info("could not open a browser; the sign-in link is in the details panel")
