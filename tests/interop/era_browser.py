"""The "system browser" of the era tests (``BROWSER``): the mock authorization server runs with
``--auto-approve``, so signing in is following redirects until the app's loopback page answers."""

from __future__ import annotations

import sys

import httpx


def main() -> int:
    with httpx.Client(timeout=20, trust_env=False, follow_redirects=True, max_redirects=10) as http:
        http.get(sys.argv[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
