"""``add``, ``list`` and ``rename``: the servers themselves."""

from __future__ import annotations

import argparse
import shlex
import sys

from mcp_auth_desktop.cli.exit_codes import EXIT_OK, exit_code_for
from mcp_auth_desktop.cli.render import dumps, format_list, view_to_dict
from mcp_auth_desktop.cli.server_args import add_from_args, add_server_options
from mcp_auth_desktop.cli.table import Command, Session
from mcp_auth_desktop.core import errors

__all__ = ["ADD", "LIST", "RENAME"]


def _build_add(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", metavar="URL")
    add_server_options(p)
    p.add_argument("--no-discover", action="store_true", help="do not contact the server now")


async def add(session: Session, args: argparse.Namespace) -> int:
    try:
        view = await add_from_args(session.manager, args.url, args, session.client_secret,
                                   discover=not args.no_discover)
    except errors.McpAuthError as exc:
        # Nothing is stored when discovery fails (the manager discovers first).
        print(f"mcp-auth: not added: {exc.user_message}", file=sys.stderr)
        if not isinstance(exc, errors.ConfigurationError | errors.DuplicateServerError):
            print(
                "mcp-auth: nothing was stored. To keep it anyway and sign in later: "
                f"mcp-auth add --no-discover {shlex.quote(args.url)}",
                file=sys.stderr,
            )
        return exit_code_for(exc)
    if args.json:
        print(dumps(view_to_dict(view)))
    else:
        print(f"Added {view.name} ({view.url}): {view.state.value}.")
        if view.issuer:
            print(f"Authorization server: {view.issuer}")
        print(f"Next: mcp-auth login {view.name}")
    return EXIT_OK


async def list_servers(session: Session, args: argparse.Namespace) -> int:
    views = session.manager.servers()
    if args.json:
        print(dumps({"storage": session.storage, "servers": [view_to_dict(v) for v in views]}))
    else:
        print(format_list(views, session.storage))
    return EXIT_OK


def _build_rename(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")
    p.add_argument("new_name", metavar="NEW_NAME")


async def rename(session: Session, args: argparse.Namespace) -> int:
    view = await session.manager.rename(args.server, args.new_name)
    print(dumps(view_to_dict(view)) if args.json else f"Renamed to {view.name}.")
    return EXIT_OK


ADD = Command(name="add", help="add an MCP server and discover its authorization server",
              build=_build_add, run=add, checks_server_options=True, reads_client_secret=True)
LIST = Command(name="list", help="list the servers, their state and where secrets are kept",
               run=list_servers, answers_empty_home=lambda args: True)
RENAME = Command(name="rename", help="give a server a new name", build=_build_rename, run=rename)
