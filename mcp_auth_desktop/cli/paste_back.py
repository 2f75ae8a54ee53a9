"""``mcp-auth login --paste``: sign in when the browser cannot reach this machine (issue 16).

The sign-in runs as usual, with its loopback listener on this machine. Because the
browser (on another machine, over SSH, in a container) cannot open the listener's
start page, this module opens it locally, without following its redirect, and prints
the authorization URL it points to. After approving, the browser fails to load the
redirect to 127.0.0.1; the user copies that final URL from its address bar and pastes
it here. It is then delivered to the same local listener, so it is checked exactly
like a loopback callback: the state, the issuer, one use. Nothing is parsed here
beyond making sure the URL is addressed to that listener.
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit

import httpx

__all__ = ["PasteBack"]

PROMPT = (
    "Open this URL in a browser on any machine and approve the sign-in:\n{url}\n"
    "The browser then fails to load a page on 127.0.0.1: that is expected. Copy the whole "
    "URL from its address bar and paste it here, then press Enter:"
)
MAX_TRIES = 3


class PasteBack:
    """The ``on_authorization_url`` callback of a paste-back sign-in."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def __call__(self, start_page: str) -> None:
        # Called from inside the sign-in, before it waits for the callback.
        self._task = asyncio.get_running_loop().create_task(self._run(start_page))

    async def _run(self, start_page: str) -> None:
        start = urlsplit(start_page)
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=10) as http:
            answer = await http.get(start_page)
            location = answer.headers.get("location")
            if answer.status_code not in (302, 303) or not location:
                print("mcp-auth: the sign-in page did not answer; try again", file=sys.stderr)
                return
            print(PROMPT.format(url=location), file=sys.stderr, flush=True)
            for _ in range(MAX_TRIES):
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    print("mcp-auth: nothing was pasted (end of input)", file=sys.stderr)
                    return
                pasted = urlsplit(line.strip())
                if (pasted.scheme, pasted.hostname, pasted.port) != (start.scheme, start.hostname, start.port):
                    print(
                        f"mcp-auth: that is not the address this sign-in waits for "
                        f"(it starts with {start.scheme}://{start.netloc}/); paste the final URL "
                        "from the browser's address bar:",
                        file=sys.stderr,
                        flush=True,
                    )
                    continue
                # Delivered to the listener like the browser would: it checks and answers.
                await http.get(line.strip())
                return
            print("mcp-auth: giving up after three pastes", file=sys.stderr)


def no_display() -> bool:
    """True on Linux/BSD without X11 or Wayland and without a BROWSER command."""
    import os

    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("BROWSER"))
