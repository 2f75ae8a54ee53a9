"""What a browser does with the app's sign-in pages, shared by the tests' stand-in browsers.

- :func:`through_start_page`: a headless user agent's path through the app's single-use
  loopback start page (GET it, follow its 302), so it takes the same path as real
  Chromium (issue 15 #4).
- :class:`HeadlessApprover`: the manager's browser for a mock server started with
  ``--auto-approve``: through the start page, then the mock's redirect to the listener.
- :func:`chromium_page`, :func:`step_log`, :func:`script_main`: the Chromium (Playwright,
  ``/usr/bin/chromium``) start, the step log and the ``BROWSER=… URL`` script entry that
  ``tests/e2e/browser_approve.py``, ``tests/interop/browser_signin.py`` and the device-grant
  test share. Playwright is imported only when a page is opened.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from mcp_auth_desktop.core.loopback import is_start_page

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def through_start_page(url: str) -> str:
    """The authorization URL behind ``url`` (``url`` itself when it is no start page)."""
    if not is_start_page(url):
        return url
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        response = await client.get(url)
    assert response.status_code == 302, response.status_code
    return response.headers["location"]


class HeadlessApprover:
    """A 'browser' for an auto-approving mock: follow the redirect to our loopback listener.

    Each URL opened is followed in a task of its own (kept in :attr:`tasks`), as a real
    browser runs beside the sign-in that waits for it.
    """

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str) -> None:
        async def go() -> None:
            async with httpx.AsyncClient(timeout=10, trust_env=False) as c:
                r = await c.get(await through_start_page(url))
                assert r.status_code in (302, 303), r.status_code
                await c.get(r.headers["location"])

        self.tasks.append(asyncio.create_task(go()))


def step_log(env_var: str) -> Callable[[str], None]:
    """A logger appending timestamped lines to the file named by ``env_var`` (if set).

    Callers log steps and hosts only: never a code or a token.
    """

    def log(message: str) -> None:
        path = os.environ.get(env_var)
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"{time.strftime('%H:%M:%S')} {message}\n")

    return log


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A fresh page in a headless Debian Chromium, closed (with its browser) afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def script_main(argv: list[str], name: str, run: Callable[[str], bool], log: Callable[[str], None]) -> int:
    """``name URL``: 0 when ``run(URL)`` succeeded; a failure is logged as ``failed <Error>``
    (and said on stderr), so the app's own error is what the test then sees."""
    if len(argv) != 1:
        print(f"usage: {name} URL", file=sys.stderr)
        return 2
    try:
        return 0 if run(argv[0]) else 1
    except Exception as exc:  # noqa: BLE001 - reported; the app then shows its own error
        log(f"failed {type(exc).__name__}")
        print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
