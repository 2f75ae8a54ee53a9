"""What ``login`` and ``call`` say on stderr while a sign-in runs."""

from __future__ import annotations

import sys

from mcp_auth_desktop.core import stale_client
from mcp_auth_desktop.core.events import LogEvent, StateChanged
from mcp_auth_desktop.core.ports import ManagerLike
from mcp_auth_desktop.core.state import ManagerEvent, ServerState

__all__ = ["SignInNarrator", "print_url"]


def print_url(url: str) -> None:
    print(
        "Open this URL in a browser to sign in, then come back here:\n"
        f"{url}\nWaiting for the sign-in to complete…",
        file=sys.stderr,
        flush=True,
    )


class SignInNarrator:
    """Says on stderr what a sign-in is doing: the browser opening, what to do if it shows an
    error, and the manager's warnings (such as registering this app again)."""

    def __init__(self, manager: ManagerLike, *, browser: bool, redirect: bool = True) -> None:
        self._manager = manager
        self._browser = browser
        # False for a sign-in with a code (RFC 8628): no redirect, so no redirect error to explain.
        self._redirect = redirect

    def __call__(self, event: ManagerEvent) -> None:
        if isinstance(event, StateChanged) and event.new is ServerState.SIGNING_IN:
            name = self._manager.get(event.server_id).name
            if self._browser:
                print("Opening your browser to sign in…", file=sys.stderr, flush=True)
            if self._redirect:
                print(stale_client.browser_error_hint(name), file=sys.stderr, flush=True)
        elif isinstance(event, LogEvent) and event.level in ("warning", "error"):
            print(f"mcp-auth: {event.message}", file=sys.stderr, flush=True)
