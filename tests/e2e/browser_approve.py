#!/usr/bin/env python3
"""A stand-in for the user's browser: open the authorization URL in Chromium and click Approve.

Used through the ``BROWSER`` environment variable, which the app's
``SystemBrowser`` honours: ``BROWSER="python tests/e2e/browser_approve.py"``.
It drives Debian's Chromium with Playwright to the mock server's consent
page, clicks Approve, and waits until the loopback callback page has
loaded, then exits. Nothing it logs contains the code or a token: the log
(``E2E_BROWSER_LOG``, optional) names only the steps and the hosts.
"""

from __future__ import annotations

import os
import sys
import time
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _log(message: str) -> None:
    path = os.environ.get("E2E_BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def _is_callback(u: str, opened: str) -> bool:
    """The app's loopback callback: on its start page's port (not the start page itself),
    or, when the browser was given the authorization URL, on a port other than the AS's."""
    parts, first = urlsplit(u), urlsplit(opened)
    if parts.hostname not in ("127.0.0.1", "::1", "[::1]"):
        return False
    if first.path.startswith("/start/"):
        return parts.port == first.port and not parts.path.startswith("/start/")
    return parts.port != first.port


def approve(url: str, *, decision: str = "approve", timeout_ms: int = 30_000) -> str:
    """Returns the text of the page the flow ends on (the loopback success page)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            _log(f"open {urlsplit(url).netloc}{urlsplit(url).path}")
            page.goto(url, timeout=timeout_ms)
            page.click(f"#{decision}", timeout=timeout_ms)
            _log(f"clicked {decision}")
            page.wait_for_url(lambda u: _is_callback(u, url), timeout=timeout_ms)
            page.wait_for_load_state("load", timeout=timeout_ms)
            text = page.inner_text("body", timeout=timeout_ms)
            _log(f"landed on loopback callback: {text[:80]!r}")
            return text
        finally:
            browser.close()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: browser_approve.py URL", file=sys.stderr)
        return 2
    try:
        approve(argv[0], decision=os.environ.get("E2E_BROWSER_DECISION", "approve"))
    except Exception as exc:  # report and fail: the app's flow will then time out visibly
        _log(f"failed: {type(exc).__name__}")
        print(f"browser_approve: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
