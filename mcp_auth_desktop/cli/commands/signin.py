"""``login``: sign in, adding the server first when given a URL never added."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable

from mcp_auth_desktop.cli.exit_codes import EXIT_OK, UsageError
from mcp_auth_desktop.cli.narration import narrate_sign_in, print_url
from mcp_auth_desktop.cli.render import dumps, format_when, view_to_dict
from mcp_auth_desktop.cli.server_args import add_from_args, add_server_options, scopes_from
from mcp_auth_desktop.cli.table import Command, Session
from mcp_auth_desktop.core import errors

__all__ = ["LOGIN"]


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")
    p.add_argument(
        "--re-register",
        action="store_true",
        help="register this app again at the authorization server first (when it forgot this "
        "app, e.g. after a restart, and the browser shows an error about the client)",
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--no-browser",
        action="store_true",
        help="print the authorization URL on stderr instead of opening a browser, and wait",
    )
    how.add_argument(
        "--paste",
        action="store_true",
        help="for a browser that cannot reach this machine (SSH, containers): print the "
        "authorization URL, then read the final URL from the browser's address bar on stdin",
    )
    add_server_options(p)


def _authorization_url_handler(args: argparse.Namespace) -> Callable[[str], None] | None:
    """Where the sign-in link goes: stderr, the paste-back prompt, or (None) the browser."""
    if args.no_browser:
        return print_url
    if not args.paste:
        from mcp_auth_desktop.cli import paste_back

        if paste_back.no_display():
            hint = paste_back.NO_DISPLAY_HINT.format(name=shlex.quote(args.server))
            if not sys.stdin.isatty():
                raise UsageError(hint)
            print(f"mcp-auth: {hint}. Continuing with --paste.", file=sys.stderr)
            args.paste = True
    if args.paste:
        from mcp_auth_desktop.cli.paste_back import PasteBack

        return PasteBack()
    return None


async def login(session: Session, args: argparse.Namespace) -> int:
    manager = session.manager
    on_url = _authorization_url_handler(args)
    narrate_sign_in(manager, on_url)
    try:
        ref = manager.get(args.server).id
        from mcp_auth_desktop.cli.login_options import conflicting_options

        conflicts = conflicting_options(manager.server_config(ref), args)
        if conflicts:  # never ignored silently (issue 16)
            raise UsageError(
                "login: options that would not be used for an existing server:\n  "
                + "\n  ".join(conflicts)
            )
    except errors.ServerNotFoundError:
        if "://" not in args.server:
            raise
        ref = (await add_from_args(manager, args.server, args, session.client_secret)).id
    view = await manager.sign_in(
        ref, on_authorization_url=on_url, scopes=scopes_from(args), re_register=args.re_register
    )
    if args.json:
        print(dumps(view_to_dict(view)))
    else:
        print(f"Signed in to {view.name}; token valid until {format_when(view.expires_at)}.")
    return EXIT_OK


LOGIN = Command(
    name="login",
    help="sign in (adds the server first when given a URL never added)",
    build=_build,
    run=login,
    checks_server_options=True,
    reads_client_secret=True,
    opens_browser=lambda args: not (args.no_browser or args.paste),
    sign_in_hint=False,
)
