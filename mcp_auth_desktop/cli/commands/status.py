"""``mcp-auth status [NAME]``: one server in full, or the overview of every server."""

from __future__ import annotations

import argparse

from mcp_auth_desktop.cli.exit_codes import EXIT_OK
from mcp_auth_desktop.cli.render import dumps, format_overview, format_status, view_to_dict
from mcp_auth_desktop.cli.table import Command, Session

__all__ = ["STATUS"]


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL", nargs="?")


async def status(session: Session, args: argparse.Namespace) -> int:
    manager, storage = session.manager, session.storage
    if args.server is None:
        views = manager.servers()
        if args.json:
            print(dumps({"storage": storage, "servers": [view_to_dict(v) for v in views]}))
        else:
            print(format_overview(views, storage))
        return EXIT_OK
    view = manager.get(args.server)
    if args.json:
        print(dumps({**view_to_dict(view), "storage": storage}))
    else:
        print(format_status(view, storage))
    return EXIT_OK


STATUS = Command(name="status",
                 help="show every server's state, account, expiry, last refresh and last error, "
                      "or everything known about one server",
                 build=_build, run=status,
                 answers_empty_home=lambda args: args.server is None)
