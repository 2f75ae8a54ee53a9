"""Getting the user signed in when a bridge finds it is not.

A bridge cannot show a window, and its client is waiting on a JSON-RPC
answer, so it answers at once with an error that says what to do and, in
the background, asks for the sign-in: the running app is asked over its
single-instance channel (it shows its own sign-in, as if the user had
clicked); with no app and a display, the bridge opens the browser itself.
Only one bridge per server does that at a time (a lock file), and each
bridge asks at most once per :data:`ASK_INTERVAL` for the same scopes, so
five bridges of a signed-out server do not open five tabs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from mcp_auth_desktop.bridge import appipc
from mcp_auth_desktop.core import errors
from mcp_auth_desktop.storage.filelock import _try_lock, _unlock
from mcp_auth_desktop.storage.paths import ensure_private_dir

__all__ = ["SignInRequester", "display_available", "ASK_INTERVAL"]

log = logging.getLogger(__name__)

ASK_INTERVAL = 60.0
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

SignInHere = Callable[[tuple[str, ...]], Awaitable[object]]


def display_available() -> bool:
    """Whether a browser opened from here can be seen (X11/Wayland on Linux and BSD)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class SignInRequester:
    def __init__(
        self,
        server_id: str,
        *,
        lock_dir: Path,
        sign_in_here: SignInHere | None,
        ask_app: Callable[[str, tuple[str, ...]], bool] = appipc.ask_app_to_sign_in,
        interval: float = ASK_INTERVAL,
    ) -> None:
        self.server_id = server_id
        self._lock_dir = lock_dir
        self._sign_in_here = sign_in_here
        self._ask_app = ask_app
        self._interval = interval
        self._asked: dict[tuple[str, ...], tuple[float, str]] = {}
        self._task: asyncio.Task[None] | None = None
        #: What happened on each request (tests read it): "app", "browser", "busy", "none".
        self.outcomes: list[str] = []

    async def request(self, scopes: tuple[str, ...] = ()) -> str:
        """Ask for a sign-in (with ``scopes`` for a step-up); a sentence for the user."""
        key = tuple(sorted(scopes))
        now = time.monotonic()
        previous = self._asked.get(key)
        if previous is not None and now - previous[0] < self._interval:
            return previous[1]
        if await asyncio.to_thread(self._ask_app, self.server_id, key):
            outcome, text = "app", "MCP Auth Desktop was asked to open the sign-in page."
        elif self._task is not None and not self._task.done():
            outcome, text = "busy", "A sign-in page is already open in the browser."
        elif self._sign_in_here is not None and display_available():
            fd = self._try_lock()
            if fd is None:
                outcome, text = "busy", "Another bridge has already opened the sign-in page."
            else:
                self._task = asyncio.ensure_future(self._run_here(fd, key))
                outcome, text = "browser", "The sign-in page was opened in your browser."
        else:
            outcome, text = "none", ""
        self.outcomes.append(outcome)
        log.info("sign-in requested for %s: %s", self.server_id, outcome)
        self._asked[key] = (now, text)
        return text

    def _try_lock(self) -> int | None:
        try:
            ensure_private_dir(self._lock_dir)
            fd = os.open(self._lock_dir / f"signin-{self.server_id}.lock",
                         os.O_RDWR | os.O_CREAT | _O_NOFOLLOW, 0o600)
        except (OSError, errors.StorageError) as exc:
            log.info("cannot take the sign-in lock: %s", exc)
            return None
        if _try_lock(fd):
            return fd
        os.close(fd)
        return None

    async def _run_here(self, fd: int, scopes: tuple[str, ...]) -> None:
        assert self._sign_in_here is not None  # noqa: S101 - checked by the caller
        try:
            await self._sign_in_here(scopes)
            log.info("signed in from the bridge")
            self._asked.clear()
        except errors.McpAuthError as exc:
            log.warning("sign-in from the bridge failed: %s", exc.user_message)
        except Exception as exc:  # noqa: BLE001 - a background task must not die silently
            log.error("sign-in from the bridge failed unexpectedly: %s", type(exc).__name__)
        finally:
            try:
                _unlock(fd)
            finally:
                os.close(fd)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
