"""``token`` (the full path, when the lean one in :mod:`..token_fast` declines) and ``refresh``."""

from __future__ import annotations

import argparse
import sys

from mcp_auth_desktop.cli.exit_codes import EXIT_OK
from mcp_auth_desktop.cli.render import dumps, format_when, view_to_dict
from mcp_auth_desktop.cli.table import Command, Session
from mcp_auth_desktop.cli.token_fast import FORMATS, format_token, full_json

__all__ = ["REFRESH", "TOKEN"]


def _build_token(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")
    token_out = p.add_mutually_exclusive_group()
    token_out.add_argument(
        "--format",
        choices=FORMATS,
        default="plain",
        help="plain: the token; header: one 'Authorization: Bearer …' line; json: "
        '{"Authorization": "Bearer …"}, what header helpers (Claude Code\'s headersHelper) expect',
    )
    token_out.add_argument(
        "--json", action="store_true", help="print the token set (expiry, scopes, resource) as JSON"
    )
    p.add_argument(
        "--min-ttl",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="refresh first when the token expires within this many seconds (default 60)",
    )


async def token(session: Session, args: argparse.Namespace) -> int:
    tokens = await session.manager.token_info(args.server, min_ttl=args.min_ttl)
    if args.json:
        sys.stdout.write(full_json(tokens.to_dict()))
    else:
        sys.stdout.write(format_token(tokens.access_token, args.format))
    return EXIT_OK


def _build_refresh(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")


async def refresh(session: Session, args: argparse.Namespace) -> int:
    view = await session.manager.refresh(args.server, force=True)
    if args.json:
        print(dumps(view_to_dict(view)))
    else:
        print(f"Refreshed {view.name}; token valid until {format_when(view.expires_at)}.")
    return EXIT_OK


TOKEN = Command(name="token",
                help="print a valid access token and nothing else (refreshing first if needed)",
                build=_build_token, json_flag=False, run=token, stale_client_hint=True)
REFRESH = Command(name="refresh", help="refresh the server's tokens now", build=_build_refresh,
                  run=refresh, stale_client_hint=True)
