"""The ``mcp-auth`` console script: the lean ``token`` path first, else the full command.

Kept tiny on purpose: it is imported on every run, and ``mcp-auth token`` on
a cached token must start not much slower than Python itself (see
:mod:`.token_fast`). Everything else, and every ``token`` run the lean path
declines, goes to :func:`mcp_auth_desktop.cli.main.main` unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["token"]:
        from mcp_auth_desktop.cli.token_fast import run

        code = run(args[1:])
        if code is not None:
            return code
    from mcp_auth_desktop.cli.main import main as full_main

    return full_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
