"""``call``: one authenticated MCP request, its JSON result on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mcp_auth_desktop.cli import device_login
from mcp_auth_desktop.cli.exit_codes import EXIT_OK, UsageError
from mcp_auth_desktop.cli.narration import SignInNarrator, print_url
from mcp_auth_desktop.cli.render import dumps
from mcp_auth_desktop.cli.table import Command, Session
from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.mcp.display import description_fields

__all__ = ["CALL"]

HELP = ("send one authenticated MCP request and print its JSON result (on stderr: the protocol "
        "revision the server speaks and what server/discover or initialize returned)")


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")
    p.add_argument("method", metavar="METHOD", help="e.g. tools/list")
    p.add_argument("params", metavar="PARAMS_JSON", nargs="?", help="the params object as JSON")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--sign-in",
        dest="sign_in",
        action="store_true",
        default=None,
        help="sign in (or step up) in the browser when needed (default when run in a terminal); "
        "without a display, with a code entered on any device where the server offers it",
    )
    group.add_argument(
        "--no-sign-in",
        dest="sign_in",
        action="store_false",
        help="never open a browser: exit with code 3 when a sign-in is needed",
    )
    p.add_argument("--no-browser", action="store_true", help="print the URL instead of opening it")
    p.add_argument("--json", action="store_true", help="accepted for symmetry; output is JSON")


def _params(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"PARAMS_JSON is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise UsageError("PARAMS_JSON must be a JSON object")
    return parsed


async def call(session: Session, args: argparse.Namespace) -> int:
    manager = session.manager
    params = _params(args.params)
    interactive = args.sign_in if args.sign_in is not None else sys.stderr.isatty()
    # Without a display a sign-in, when one is needed, is one with a code (as `login` does).
    on_url = device_login.for_call(manager, args, print_url if args.no_browser else None)
    manager.subscribe(SignInNarrator(manager, browser=on_url is None,
                                     redirect=not device_login.is_code(on_url)))
    try:
        result = await manager.call(
            args.server,
            args.method,
            params,
            interactive=interactive,
            on_authorization_url=on_url,
        )
    except errors.DeviceGrantUnavailableError as exc:
        raise device_login.refused_for_call(manager, args, exc) from None
    print(dumps(result))
    # Which revision the server speaks and what it said about itself, on stderr
    # so the JSON on stdout stays machine-readable; server text made terminal-safe.
    described = manager.get(args.server).mcp_server
    for label, text in description_fields(described) if described else ():
        print(f"{label}: {text}", file=sys.stderr)
    return EXIT_OK


CALL = Command(name="call", help=HELP, build=_build, json_flag=False, run=call,
               opens_browser=lambda args: not args.no_browser, stale_client_hint=True)
