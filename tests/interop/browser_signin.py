#!/usr/bin/env python3
"""The system browser of the interop tests: Chromium, driven by Playwright, used through ``BROWSER``.

It opens the authorization URL the app hands to the browser and does what a user
would: on a consent page with an Approve button (our mock server) it clicks it;
servers that approve on their own (the TypeScript SDK's demo authorization
server, FastMCP's in-memory provider) redirect by themselves. It waits until the
browser lands on the app's loopback callback page.

The log (``INTEROP_BROWSER_LOG``) gets one ``open`` line per browser start, a
``consent`` line per Approve click, and the end: ``landed`` with the callback
page's first words, or ``stuck`` with the first words of the page the browser
stayed on (an authorization server's error page). Never the code or a token.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script through BROWSER

from tests.start_page import chromium_page, script_main, step_log  # noqa: E402

#: How long the browser waits on a page before giving up like a user would.
PATIENCE_S = float(os.environ.get("INTEROP_BROWSER_PATIENCE", "20"))
_log = step_log("INTEROP_BROWSER_LOG")


def _is_callback(url: str) -> bool:
    # The app may open its own loopback start page first (same port), which redirects
    # to the authorization server; only the callback path ends the flow.
    parts = urlsplit(url)
    return parts.hostname in ("127.0.0.1", "::1") and parts.path == "/callback"


def _words(text: str) -> str:
    return " ".join(text.split())[:160]


def sign_in(url: str) -> bool:
    start_port = urlsplit(url).port
    _log(f"open {urlsplit(url).hostname}:{start_port}{urlsplit(url).path}")
    with chromium_page() as page:
        page.goto(url, timeout=PATIENCE_S * 1000)
        deadline = time.monotonic() + PATIENCE_S
        clicked = False
        while time.monotonic() < deadline:
            if _is_callback(page.url):
                page.wait_for_load_state("load", timeout=PATIENCE_S * 1000)
                _log(f"landed {urlsplit(page.url).port} {_words(page.inner_text('body'))!r}")
                return True
            if not clicked:
                try:
                    button = page.query_selector("#approve")
                except PlaywrightError:  # navigating
                    button = None
                if button is not None:
                    _log("consent")
                    button.click()
                    clicked = True
            page.wait_for_timeout(200)
        try:
            text = page.inner_text("body", timeout=2000)
        except PlaywrightError:
            text = ""
        _log(f"stuck {urlsplit(page.url).hostname}:{urlsplit(page.url).port} {_words(text)!r}")
        return False


def main(argv: list[str]) -> int:
    return script_main(argv, "browser_signin.py", sign_in, _log)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
