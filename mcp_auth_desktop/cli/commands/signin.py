"""``login``: sign in, adding the server first when given a URL never added."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mcp_auth_desktop.cli import device_login
from mcp_auth_desktop.cli.exit_codes import EXIT_OK, UsageError
from mcp_auth_desktop.cli.narration import SignInNarrator, print_url
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
        "--device",
        action="store_true",
        help="sign in with a code on any device (OAuth device authorization, RFC 8628): print "
        "an address and a code, then wait for the approval",
    )
    how.add_argument(
        "--paste",
        action="store_true",
        help="for a browser that cannot reach this machine (SSH, containers): print the "
        "authorization URL, then read the final URL from the browser's address bar on stdin",
    )
    add_server_options(p)


def _authorization_url_handler(args: argparse.Namespace) -> Callable[[str], None] | None:
    """Where the sign-in link goes: stderr, the paste-back prompt, or (None) the browser (or,
    without a display or with --device, a code: cli/device_login.py decides once the server is known)."""
    if args.no_browser:
        return print_url
    if args.paste:
        from mcp_auth_desktop.cli.paste_back import PasteBack

        return PasteBack()
    return None


async def login(session: Session, args: argparse.Namespace) -> int:
    manager = session.manager
    device_login.check_before_adding(manager, args)
    on_url = _authorization_url_handler(args)
    # "Opening your browser" only where one will open: not for a code (--device, or no display).
    manager.subscribe(SignInNarrator(
        manager, browser=on_url is None and not device_login.without_browser(args), redirect=not args.device
    ))
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
    view = await device_login.login(
        manager, ref, args, on_url, scopes=scopes_from(args), re_register=args.re_register
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
    opens_browser=lambda args: not (args.no_browser or args.paste or args.device),
    sign_in_hint=False,
)
