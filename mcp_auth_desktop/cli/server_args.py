"""The options ``add`` and ``login`` share, and a server added from them."""

from __future__ import annotations

import argparse
import sys

from mcp_auth_desktop.cli.exit_codes import UsageError
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.ports import ManagerLike
from mcp_auth_desktop.core.state import ServerView

__all__ = ["add_from_args", "add_server_options", "options_from", "read_secret_stdin",
           "scopes_from"]


def add_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="a short name to refer to the server by")
    p.add_argument("--client-id", help="a pre-registered client id (skips registration)")
    p.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the pre-registered client's secret from standard input",
    )
    p.add_argument(
        "--client-auth-method",
        choices=("none", "client_secret_basic", "client_secret_post"),
        help="how a pre-registered client authenticates (default: basic with a secret, else none)",
    )
    p.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="S",
        help="a scope to request (repeat, or give several separated by spaces)",
    )
    p.add_argument("--resource", help="send this RFC 8707 resource instead of the server URL")
    p.add_argument(
        "--omit-resource",
        action="store_true",
        help="send no resource parameter (for authorization servers that reject it)",
    )
    p.add_argument("--callback-port", type=int, help="a fixed loopback callback port")
    p.add_argument(
        "--auth-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an extra authorization request parameter (repeatable), e.g. prompt=consent",
    )
    p.add_argument(
        "--allow-insecure-loopback",
        action="store_true",
        help="allow plain http to localhost / 127.0.0.1 / [::1] (development servers)",
    )


def options_from(args: argparse.Namespace) -> ServerOptions:
    params: list[tuple[str, str]] = []
    for item in args.auth_param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--auth-param needs KEY=VALUE, not {item!r}")
        params.append((key, value))
    if args.resource and args.omit_resource:
        raise UsageError("--resource and --omit-resource exclude each other")
    return ServerOptions(
        resource_override=args.resource or None,
        omit_resource=bool(args.omit_resource),
        callback_port=args.callback_port,
        extra_authorize_params=tuple(params),
        allow_insecure_loopback=bool(args.allow_insecure_loopback),
    )


def scopes_from(args: argparse.Namespace) -> tuple[str, ...]:
    out: list[str] = []
    for item in args.scope:
        out.extend(s for s in item.split() if s not in out)
    return tuple(out)


def read_secret_stdin() -> str:
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise UsageError("--client-secret-stdin: nothing was read from standard input")
    return secret


async def add_from_args(manager: ManagerLike, url: str, args: argparse.Namespace,
                        client_secret: str | None, *, discover: bool = True) -> ServerView:
    """Add the server at ``url`` with the add-server options given (``add``, or ``login URL``)."""
    return await manager.add_server(
        url,
        name=args.name,
        client_id=args.client_id,
        client_secret=client_secret,
        client_auth_method=args.client_auth_method,
        scopes=scopes_from(args),
        options=options_from(args),
        discover=discover,
    )
