#!/usr/bin/env python3
"""A ``BROWSER`` command for the start-page tests: records what it was given, then acts.

It writes its argv and environment (JSON) to ``$E2E_RECORD`` (the tests check
that neither carries a secret, ``state`` or ``code_challenge``), then, by
``$E2E_BROWSER_MODE``:

* ``approve``: real Chromium (Playwright, ``browser_approve.approve``) opens
  the start page, follows it to the mock's consent page, clicks Approve and
  lands on the loopback callback;
* ``reuse``: requests the start page twice (the second use must be refused);
* ``forge-state``: requests the start page, then sends a callback with a
  forged ``state`` to the ``redirect_uri`` named in the authorization URL.

What it saw (statuses, page texts) is added to the record, with ``done`` set
(the CLI may exit before this command does: it is left running like a browser).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
        return None  # hand the 3xx back as an HTTPError


def _get(url: str) -> tuple[int, str, str]:
    """(status, Location, body) without following redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=20) as resp:
            return resp.status, resp.headers.get("Location", ""), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location", ""), err.read().decode()


def main(argv: list[str]) -> int:
    record: dict[str, Any] = {"argv": argv, "env": dict(os.environ), "done": False}
    out = Path(os.environ["E2E_RECORD"])
    out.write_text(json.dumps(record))  # at once: the app may finish before we do
    mode = os.environ.get("E2E_BROWSER_MODE", "approve")
    url = argv[-1]
    try:
        if mode == "approve":
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from browser_approve import approve

            record["page"] = approve(url)
        elif mode == "reuse":
            record["first"] = _get(url)[:2]
            record["second"] = _get(url)
        elif mode == "forge-state":
            status, location, _ = _get(url)
            record["first"] = (status, location)
            redirect_uri = parse_qs(urlsplit(location).query)["redirect_uri"][0]
            record["forged"] = _get(f"{redirect_uri}?{urlencode({'code': 'forged', 'state': 'forged-state'})}")
    finally:
        record["done"] = True
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
