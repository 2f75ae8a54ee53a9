"""``mcp-auth whoami NAME``: the account a server's sign-in is for (core/identity.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from mcp_auth_desktop.cli.render import account_text, dumps, state_name

__all__ = ["add_parser", "run"]


def add_parser(cmd: Callable[..., argparse.ArgumentParser]) -> None:
    p = cmd("whoami", "show which account you are signed in as at a server")
    p.add_argument("server", metavar="NAME|URL")


def run(manager: Any, args: argparse.Namespace) -> int:
    view = manager.get(args.server)
    signed_in = view.account is not None or view.expires_at is not None or view.has_refresh_token
    if args.json:
        print(dumps({
            "server": view.name,
            "state": state_name(view),
            "account": view.account,
            "source": view.account_source,
            "verified": view.account_verified,
        }))
    elif not signed_in:
        print(f"Not signed in to {view.name} ({view.state.value}).")
    else:
        print(account_text(view))
    # Not signed in is a sign-in matter (exit 3), like `token`.
    return 0 if signed_in else 3
