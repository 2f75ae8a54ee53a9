"""``mcp-auth status [NAME]``: one server in full, or the overview of every server."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from mcp_auth_desktop.cli.render import dumps, format_overview, format_status, view_to_dict

__all__ = ["add_parser", "run"]


def add_parser(cmd: Callable[..., argparse.ArgumentParser]) -> None:
    p = cmd("status", "show every server's state, account, expiry, last refresh and last error, "
                      "or everything known about one server")
    p.add_argument("server", metavar="NAME|URL", nargs="?")


def run(manager: Any, args: argparse.Namespace, storage: str) -> int:
    if args.server is None:
        views = manager.servers()
        if args.json:
            print(dumps({"storage": storage, "servers": [view_to_dict(v) for v in views]}))
        else:
            print(format_overview(views, storage))
        return 0
    view = manager.get(args.server)
    if args.json:
        print(dumps({**view_to_dict(view), "storage": storage}))
    else:
        print(format_status(view, storage))
    return 0
