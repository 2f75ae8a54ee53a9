"""Opening the authorization URL in the user's browser, never through a shell.

The MCP security best practices (SBP "OAuth Authorization URL Validation";
CVE-2025-6514 in mcp-remote) require that a URL learned from a server is
checked to be http(s) and handed to the browser through an API that does not
involve a shell, so ``$(...)``, ``;`` or ``&`` in it stay plain characters.

:class:`SystemBrowser` honours the ``BROWSER`` environment variable the way
Python's :mod:`webbrowser` and ``xdg-open`` do: a ``os.pathsep``-separated
list of commands tried in order; a command containing ``%s`` gets the URL
there, otherwise the URL is appended. Each command is split into words like a
shell would (:func:`shlex.split`) but is executed directly as an argv list,
and the URL is always exactly one argument. Without a working ``BROWSER``
entry it falls back to :func:`webbrowser.open`.

Every command gets our environment without its secrets
(:mod:`core.childenv`), and is given the listener's single-use start page
rather than the authorization URL, so no other local user can read ``state``
or ``code_challenge`` from the process list.

Processes are started with :class:`subprocess.Popen` in a worker thread rather
than with asyncio subprocesses, because the GUI runs on qasync, whose event
loop does not implement them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
import shlex
import subprocess
import threading
import webbrowser
from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from mcp_auth_desktop.core.childenv import child_environment, withhold_secrets_from_children
from mcp_auth_desktop.core.errors import ConfigurationError, InsecureUrlError
from mcp_auth_desktop.core.ports import BrowserOpener

__all__ = [
    "BrowserOpener",
    "SystemBrowser",
    "CallbackBrowser",
    "check_browser_url",
    "browser_commands",
]

log = logging.getLogger(__name__)

# Whitespace, controls, quotes, backslash, angle brackets, backtick and
# non-ASCII have no business in an authorization URL (its parameters are
# percent-encoded) and are what some launchers would mangle or interpret.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\uffff\"'\\<>`{}|^]")
#: How long to watch a started command for an immediate failure.
_EXIT_WATCH_SECONDS = 2.0


def check_browser_url(url: str) -> str:
    """Return ``url`` if it may be opened in a browser, else raise InsecureUrlError."""
    if not isinstance(url, str) or not url:
        raise InsecureUrlError("The sign-in address is empty.")
    if _FORBIDDEN.search(url):
        raise InsecureUrlError(
            "The sign-in address contains characters that are not allowed in a URL, so it was not opened."
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InsecureUrlError("The sign-in address is not a valid URL, so it was not opened.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        scheme = parts.scheme or "(none)"
        raise InsecureUrlError(
            f"Only http and https sign-in addresses are opened; this one uses {scheme[:20]!r}."
        )
    return url


def browser_commands(value: str | None, url: str) -> list[list[str]]:
    """The argv lists a ``BROWSER`` value yields for ``url``, in order.

    Entries that cannot be split (an unbalanced quote) are skipped.
    """
    out: list[list[str]] = []
    for entry in (value or "").split(os.pathsep):
        entry = entry.strip()
        if not entry:
            continue
        try:
            words = shlex.split(entry)
        except ValueError:
            log.debug("ignoring a BROWSER entry that cannot be split into words")
            continue
        if not words:
            continue
        if any("%s" in w for w in words):
            argv = [w.replace("%s", url) for w in words]
        else:
            argv = [*words, url]
        out.append(argv)
    return out


def _launch(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Start ``argv`` without a shell; False when it cannot start or fails at once."""
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv list, no shell: the point of this module
            list(argv),
            env=child_environment(env),  # never our secrets (issue 15 #9)
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
        )
    except OSError as exc:
        log.debug("browser command %r could not start: %s", argv[0], exc.strerror)
        return False
    try:
        code = proc.wait(timeout=_EXIT_WATCH_SECONDS)
    except subprocess.TimeoutExpired:
        # Still running (a browser in the foreground): that is success. Reap it later.
        threading.Thread(target=proc.wait, name="browser-reaper", daemon=True).start()
        return True
    if code != 0:
        log.debug("browser command %r exited with status %d", argv[0], code)
    return code == 0


class SystemBrowser:
    """Opens URLs in the system browser (``BROWSER`` first, then :mod:`webbrowser`)."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        fallback: Callable[[str], bool] | None = None,
    ) -> None:
        self._environ = environ
        self._fallback = fallback if fallback is not None else webbrowser.open

    async def open(self, url: str) -> None:
        check_browser_url(url)
        env = self._environ if self._environ is not None else os.environ
        for argv in browser_commands(env.get("BROWSER"), url):
            if await asyncio.to_thread(_launch, argv, env):
                return
        if self._fallback is webbrowser.open:
            # webbrowser starts its commands with our environment and takes no other.
            withhold_secrets_from_children()
        if await asyncio.to_thread(self._fallback, url):
            return
        raise ConfigurationError(
            "No web browser could be started. Set the BROWSER environment variable to your "
            "browser's command, or copy the sign-in link shown by the app into a browser."
        )


class CallbackBrowser:
    """A :class:`BrowserOpener` that hands the (checked) URL to a callable.

    For tests, headless user agents and ``--no-browser`` (print the link).
    """

    def __init__(self, callback: Callable[[str], None | Awaitable[None]]) -> None:
        self._callback = callback
        self.opened: list[str] = []

    async def open(self, url: str) -> None:
        check_browser_url(url)
        self.opened.append(url)
        result = self._callback(url)
        if inspect.isawaitable(result):
            await result
