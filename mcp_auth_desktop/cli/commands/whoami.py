"""``mcp-auth whoami NAME``: the account a server's sign-in is for (core/identity.py)."""

from __future__ import annotations

import argparse

from mcp_auth_desktop.cli.exit_codes import EXIT_OK, EXIT_SIGN_IN
from mcp_auth_desktop.cli.render import account_text, dumps, state_name
from mcp_auth_desktop.cli.table import Command, Session

__all__ = ["WHOAMI"]


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")


async def whoami(session: Session, args: argparse.Namespace) -> int:
    view = session.manager.get(args.server)
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
    return EXIT_OK if signed_in else EXIT_SIGN_IN


WHOAMI = Command(name="whoami", help="show which account you are signed in as at a server",
                 build=_build, run=whoami)
