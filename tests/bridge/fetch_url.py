#!/usr/bin/env python3
"""The browser for bridge tests (``BROWSER="python fetch_url.py"``): the mock server runs with
--auto-approve, so following the authorization URL's redirects to the loopback callback is all
a user would do. Appends a line to $BRIDGE_BROWSER_LOG per URL, so tests can count sign-ins."""

from __future__ import annotations

import os
import sys
import urllib.request

url = sys.argv[-1]
log = os.environ.get("BRIDGE_BROWSER_LOG")
if log:
    with open(log, "a", encoding="utf-8") as f:
        f.write("opened\n")
with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the mock on loopback
    response.read()
