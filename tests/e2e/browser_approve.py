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
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script through BROWSER

from tests.start_page import chromium_page, script_main, step_log  # noqa: E402

_log = step_log("E2E_BROWSER_LOG")


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
    with chromium_page() as page:
        _log(f"open {urlsplit(url).netloc}{urlsplit(url).path}")
        page.goto(url, timeout=timeout_ms)
        page.click(f"#{decision}", timeout=timeout_ms)
        _log(f"clicked {decision}")
        page.wait_for_url(lambda u: _is_callback(u, url), timeout=timeout_ms)
        page.wait_for_load_state("load", timeout=timeout_ms)
        text = page.inner_text("body", timeout=timeout_ms)
        _log(f"landed on loopback callback: {text[:80]!r}")
        return text


def _approve(url: str) -> bool:
    approve(url, decision=os.environ.get("E2E_BROWSER_DECISION", "approve"))
    return True  # a page that never came raised instead


def main(argv: list[str]) -> int:
    return script_main(argv, "browser_approve.py", _approve, _log)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
