"""``mcp-auth edit NAME ...``: change a server's settings after adding it (issue 16).

The settings are those ``add`` takes that are kept with the server: the scopes, the
pre-registered client (its id, a new secret read from stdin, its authentication) and
the advanced options. The rules, and what saving means ("used at the next sign-in",
or "sign in again" when the current sign-in was made with the old scopes, client or
resource), are the GUI edit dialog's: ``core/server_edit.py`` through
``ManagerLike.edit_server``. Nothing given means nothing changes.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from typing import Any

from mcp_auth_desktop.cli.exit_codes import EXIT_OK, EXIT_USAGE
from mcp_auth_desktop.cli.render import dumps
from mcp_auth_desktop.cli.server_args import read_secret_stdin
from mcp_auth_desktop.cli.table import Command, Session
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.core.server_edit import AUTH_METHODS, ServerEdit

__all__ = ["EDIT", "describe", "edited", "edited_server"]


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
    scopes = p.add_mutually_exclusive_group()
    scopes.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                        help="the scopes to ask for at the next sign-in (repeat or space-separate; "
                             "replaces the old ones)")
    scopes.add_argument("--default-scopes", action="store_true",
                        help="ask for what the server suggests again")
    # Own destinations: the add-time checks (a client option needs --client-id) do not apply
    # to a server that already has its client; the core's rules check the result instead.
    client = p.add_mutually_exclusive_group()
    client.add_argument("--client-id", dest="edit_client_id", metavar="ID",
                        help="a pre-registered client id (replaces the old one)")
    client.add_argument("--no-client-id", action="store_true",
                        help="register this app automatically again (forgets the client secret)")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--client-secret-stdin", dest="edit_secret_stdin", action="store_true",
                        help="read a new client secret from standard input")
    secret.add_argument("--forget-client-secret", action="store_true",
                        help="forget the stored client secret")
    p.add_argument("--client-auth-method", dest="edit_auth_method", choices=AUTH_METHODS,
                   help="how the pre-registered client authenticates")


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


def edited_server(config: ServerConfig, args: argparse.Namespace,
                  client_secret: str | None) -> ServerEdit:
    """The whole edit: what the flags change, the rest as stored."""
    base = ServerEdit.of(config)
    scopes = base.scopes
    if args.scope:
        scopes = tuple(dict.fromkeys(s for item in args.scope for s in item.split()))
    elif args.default_scopes:
        scopes = ()
    client_id = base.client_id
    method = base.client_auth_method
    if args.no_client_id:
        client_id, method = None, None
    elif args.edit_client_id is not None:
        client_id = args.edit_client_id
        method = None  # chosen from the secret again, unless given
    if args.edit_auth_method is not None:
        method = args.edit_auth_method
    return ServerEdit(scopes=scopes, client_id=client_id, client_auth_method=method,
                      options=edited(config.options, args), new_client_secret=client_secret,
                      forget_client_secret=args.forget_client_secret)


async def edit(session: Session, args: argparse.Namespace) -> int:
    config = session.manager.server_config(args.server)
    secret = read_secret_stdin() if args.edit_secret_stdin else None
    try:
        change = edited_server(config, args, secret)
    except ValueError as exc:
        print(f"mcp-auth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    outcome = await session.manager.edit_server(config.id, change)
    new = session.manager.server_config(config.id)
    shown = describe(new.options)
    if args.json:
        print(dumps({"server": config.name, "changed": bool(outcome.changed), "options": shown,
                     "scopes": list(new.scopes), "client_id": new.client_id,
                     "client_auth_method": new.client_auth_method,
                     "what_changed": list(outcome.changed),
                     "sign_in_again": outcome.sign_in_again}))
        return EXIT_OK
    print(f"{'Changed' if outcome.changed else 'Nothing changed for'} {config.name}:")
    rows = {"scopes": list(new.scopes) or ["(what the server suggests)"],
            "client_id": new.client_id or "(registered automatically)", **shown}
    for key, value in rows.items():
        text = " ".join(value) if isinstance(value, list) else str(value)
        print(f"  {key}: {text or '-'}")
    if outcome.changed:
        print(outcome.message)
        print(f"{'Sign in again' if outcome.sign_in_again else 'Sign in'}: "
              f"mcp-auth login {shlex.quote(config.name)}")
    return EXIT_OK


EDIT = Command(name="edit", help="change a server's scopes, client and options after adding it",
               build=_build, run=edit, checks_server_options=True)
