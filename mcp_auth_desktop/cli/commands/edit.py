"""``mcp-auth edit NAME ...``: change a server's advanced options after adding it (issue 16).

The options are those ``add`` takes that are kept with the server and used at the
next sign-in; the client identity (``--client-id``) is not among them (remove and
add again). Each change is printed; nothing given means nothing changes.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from mcp_auth_desktop.cli.exit_codes import EXIT_OK, EXIT_USAGE
from mcp_auth_desktop.cli.render import dumps
from mcp_auth_desktop.cli.table import Command, Session
from mcp_auth_desktop.core.models import ServerOptions

__all__ = ["EDIT", "describe", "edited"]


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")
    res = p.add_mutually_exclusive_group()
    res.add_argument("--resource", help="send this RFC 8707 resource instead of the server URL")
    res.add_argument("--omit-resource", action="store_true", help="send no resource parameter")
    res.add_argument("--default-resource", action="store_true",
                     help="send the server URL as the resource again (the default)")
    port = p.add_mutually_exclusive_group()
    port.add_argument("--callback-port", type=int, help="a fixed loopback callback port")
    port.add_argument("--any-callback-port", action="store_true", help="a free port at each sign-in")
    params = p.add_mutually_exclusive_group()
    params.add_argument("--auth-param", action="append", default=[], metavar="KEY=VALUE",
                        help="extra authorization request parameters (repeat; replaces the old ones)")
    params.add_argument("--no-auth-params", action="store_true", help="no extra parameters")
    loop = p.add_mutually_exclusive_group()
    loop.add_argument("--allow-insecure-loopback", action="store_true",
                      help="allow plain http to localhost / 127.0.0.1 / [::1]")
    loop.add_argument("--https-only", action="store_true", help="refuse plain http again")


def describe(options: ServerOptions) -> dict[str, Any]:
    return {
        "resource": None if options.omit_resource else options.resource_override or "(the server URL)",
        "callback_port": options.callback_port or "(any free port)",
        "auth_params": [f"{k}={v}" for k, v in options.extra_authorize_params],
        "allow_insecure_loopback": options.allow_insecure_loopback,
    }


def edited(old: ServerOptions, args: argparse.Namespace) -> ServerOptions:
    new = old
    if args.resource:
        new = replace(new, resource_override=args.resource, omit_resource=False)
    elif args.omit_resource:
        new = replace(new, resource_override=None, omit_resource=True)
    elif args.default_resource:
        new = replace(new, resource_override=None, omit_resource=False)
    if args.callback_port is not None:
        new = replace(new, callback_port=args.callback_port)
    elif args.any_callback_port:
        new = replace(new, callback_port=None)
    if args.auth_param:
        pairs = []
        for item in args.auth_param:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ValueError(f"--auth-param needs KEY=VALUE, not {item!r}")
            pairs.append((key, value))
        new = replace(new, extra_authorize_params=tuple(pairs))
    elif args.no_auth_params:
        new = replace(new, extra_authorize_params=())
    if args.allow_insecure_loopback:
        new = replace(new, allow_insecure_loopback=True)
    elif args.https_only:
        new = replace(new, allow_insecure_loopback=False)
    return new


async def edit(session: Session, args: argparse.Namespace) -> int:
    config = session.manager.server_config(args.server)
    try:
        options = edited(config.options, args)
    except ValueError as exc:
        print(f"mcp-auth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    changed = options != config.options
    if changed:
        await session.manager.update_options(config.id, options)
    shown = describe(options)
    if args.json:
        print(dumps({"server": config.name, "changed": changed, "options": shown}))
        return EXIT_OK
    print(f"{'Changed' if changed else 'Nothing changed for'} {config.name}:")
    for key, value in shown.items():
        text = " ".join(value) if isinstance(value, list) else str(value)
        print(f"  {key}: {text or '-'}")
    if changed:
        print(f"Used at the next sign-in: mcp-auth login {config.name}")
    return EXIT_OK


EDIT = Command(name="edit", help="change a server's advanced options (used at the next sign-in)",
               build=_build, run=edit, checks_server_options=True)
