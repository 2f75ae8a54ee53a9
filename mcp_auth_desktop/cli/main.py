"""``mcp-auth``: the command line of MCP Auth Desktop.

Every command opens the same storage as the GUI (``MCP_AUTH_DESKTOP_HOME``
or the platform default), runs one manager operation without a background
loop, and exits with a documented code. It is safe to run while the GUI
runs: both go through the vault's cross-process locks, so a token is
refreshed once however many processes ask.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from mcp_auth_desktop import __version__
from mcp_auth_desktop.cli.render import (
    dumps,
    format_list,
    format_when,
    install_safe_output,
    log_formatter,
    report_to_dict,
    view_to_dict,
)
from mcp_auth_desktop.cli.token_fast import FORMATS as TOKEN_FORMATS
from mcp_auth_desktop.cli.token_fast import format_token
from mcp_auth_desktop.cli.token_fast import full_json as token_set_json
from mcp_auth_desktop.core import errors, stale_client
from mcp_auth_desktop.core.childenv import withhold_secrets_from_children
from mcp_auth_desktop.core.mcp.display import description_fields
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import (
    LogEvent,
    ManagerEvent,
    RevocationReport,
    ServerState,
    StateChanged,
)

__all__ = ["main", "build_parser", "exit_code_for", "EXIT_CODES"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SIGN_IN = 3
EXIT_NOT_FOUND = 4
EXIT_TRANSIENT = 5
EXIT_STORAGE = 6
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_ERROR: "an error not covered below (the message says what happened)",
    EXIT_USAGE: "wrong usage or unusable input (bad URL, duplicate name, bad JSON)",
    EXIT_SIGN_IN: "sign-in needed: not signed in, the grant expired or was revoked, "
    "or the sign-in was not completed",
    EXIT_NOT_FOUND: "no server with that name, id or URL",
    EXIT_TRANSIENT: "network or server temporarily unavailable: try again later",
    EXIT_STORAGE: "secrets or settings could not be read or written (keyring, vault, disk)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}

log = logging.getLogger("mcp_auth_desktop.cli")


class UsageError(Exception):
    """Bad command-line input found after argparse (exit code 2)."""


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an error."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, errors.ServerNotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(
        exc,
        errors.SignInRequiredError
        | errors.InvalidGrantError
        | errors.AuthorizationError
        | errors.InvalidTokenError
        | errors.InsufficientScopeError,
    ):
        return EXIT_SIGN_IN
    if isinstance(exc, errors.StorageError):
        return EXIT_STORAGE
    if isinstance(exc, errors.ConfigurationError | errors.DuplicateServerError):
        return EXIT_USAGE
    if isinstance(exc, errors.McpAuthError) and exc.transient:
        return EXIT_TRANSIENT
    return EXIT_ERROR


def _epilog() -> str:
    codes = "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())
    return (
        "A server can be named by its name, its id or its URL wherever a command takes one.\n"
        "Data lives in $MCP_AUTH_DESKTOP_HOME (default: the platform's data directory) and is\n"
        "shared with the desktop app, which may run at the same time.\n\n"
        f"exit codes:\n{codes}\n\n"
        "examples:\n"
        "  mcp-auth add https://mcp.example.com/mcp --name example\n"
        "  mcp-auth login example\n"
        '  curl -H "Authorization: Bearer $(mcp-auth token example)" ...\n'
        "  mcp-auth setup-client claude-code example\n"
        "  mcp-auth call example tools/list\n"
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from mcp_auth_desktop.cli.option_checks import suggest_for_parser_error

        self.print_usage(sys.stderr)
        # "unrecognized arguments" comes from the top parser: offer every command's options.
        options = set(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    options.update(sub._option_string_actions)
        hint = suggest_for_parser_error(message, options)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n" + (f"{self.prog}: {hint}\n" if hint else ""))


def _add_server_options(p: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mcp-auth",
        description="Sign in to MCP servers, keep their tokens fresh and hand them to scripts.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens on stderr")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def cmd(name: str, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON instead of text")
        return p

    p = cmd("add", "add an MCP server and discover its authorization server")
    p.add_argument("url", metavar="URL")
    _add_server_options(p)
    p.add_argument("--no-discover", action="store_true", help="do not contact the server now")

    p = cmd("login", "sign in (adds the server first when given a URL never added)")
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
    _add_server_options(p)

    p = cmd(
        "token",
        "print a valid access token and nothing else (refreshing first if needed)",
        json_flag=False,
    )
    p.add_argument("server", metavar="NAME|URL")
    token_out = p.add_mutually_exclusive_group()
    token_out.add_argument(
        "--format",
        choices=TOKEN_FORMATS,
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

    cmd("list", "list the servers, their state and where secrets are kept")

    from mcp_auth_desktop.cli import status as status_command
    from mcp_auth_desktop.cli import whoami as whoami_command

    status_command.add_parser(cmd)
    whoami_command.add_parser(cmd)

    p = cmd("refresh", "refresh the server's tokens now")
    p.add_argument("server", metavar="NAME|URL")

    p = cmd("revoke", "revoke the tokens at the server (RFC 7009), then delete them here")
    p.add_argument("server", metavar="NAME|URL")

    p = cmd("remove", "revoke, delete the client registration where possible, forget the server")
    p.add_argument("server", metavar="NAME|URL")

    p = cmd(
        "forget-everything",
        "remove every server (revoking at each), delete the vault and its keyring item",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--no-revoke", action="store_true", help="delete locally only; revoke nothing at the servers"
    )

    from mcp_auth_desktop.cli import edit as edit_command

    edit_command.add_parser(cmd)

    p = cmd("rename", "give a server a new name")
    p.add_argument("server", metavar="NAME|URL")
    p.add_argument("new_name", metavar="NEW_NAME")

    p = cmd(
        "call",
        "send one authenticated MCP request and print its JSON result (on stderr: the protocol "
        "revision the server speaks and what server/discover or initialize returned)",
        json_flag=False,
    )
    p.add_argument("server", metavar="NAME|URL")
    p.add_argument("method", metavar="METHOD", help="e.g. tools/list")
    p.add_argument("params", metavar="PARAMS_JSON", nargs="?", help="the params object as JSON")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--sign-in",
        dest="sign_in",
        action="store_true",
        default=None,
        help="sign in (or step up) in the browser when needed (default when run in a terminal)",
    )
    group.add_argument(
        "--no-sign-in",
        dest="sign_in",
        action="store_false",
        help="never open a browser: exit with code 3 when a sign-in is needed",
    )
    p.add_argument("--no-browser", action="store_true", help="print the URL instead of opening it")
    p.add_argument("--json", action="store_true", help="accepted for symmetry; output is JSON")

    from mcp_auth_desktop.cli import bridge as bridge_command

    bridge_command.add_parser(cmd)

    from mcp_auth_desktop.cli import setup_client

    setup_client.add_parser(cmd)
    return parser


# ----------------------------------------------------------------- helpers


def _options_from(args: argparse.Namespace) -> ServerOptions:
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


def _scopes_from(args: argparse.Namespace) -> tuple[str, ...]:
    out: list[str] = []
    for item in args.scope:
        out.extend(s for s in item.split() if s not in out)
    return tuple(out)


def _read_secret_stdin() -> str:
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise UsageError("--client-secret-stdin: nothing was read from standard input")
    return secret


def _print_url(url: str) -> None:
    print(
        "Open this URL in a browser to sign in, then come back here:\n"
        f"{url}\nWaiting for the sign-in to complete…",
        file=sys.stderr,
        flush=True,
    )


def _passphrase_provider() -> Callable[[], str | None]:
    def ask() -> str | None:
        if not sys.stdin.isatty():
            return None
        return getpass.getpass("Passphrase for the MCP Auth Desktop vault: ") or None

    return ask


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(log_formatter("mcp-auth: %(levelname)s: %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # httpcore's DEBUG trace is wire-level noise; httpx's own lines name only URLs.
    logging.getLogger("httpcore").setLevel(logging.INFO)


def _report_text(report: RevocationReport, what: str) -> str:
    text = f"{what}: {report.summary()}"
    if report.errors and report.supported and not report.client_unknown:
        text += (
            "\nThe tokens were deleted here; revocation at the server will be retried "
            "(by the desktop app, or the next `mcp-auth revoke`)."
        )
    return text


class _SignInNarrator:
    """Says on stderr what a sign-in is doing: the browser opening, what to do if it shows an
    error, and the manager's warnings (such as registering this app again)."""

    def __init__(self, manager: Any, *, browser: bool) -> None:
        self._manager = manager
        self._browser = browser

    def __call__(self, event: ManagerEvent) -> None:
        if isinstance(event, StateChanged) and event.new is ServerState.SIGNING_IN:
            name = self._manager.get(event.server_id).name
            if self._browser:
                print("Opening your browser to sign in…", file=sys.stderr, flush=True)
            print(stale_client.browser_error_hint(name), file=sys.stderr, flush=True)
        elif isinstance(event, LogEvent) and event.level in ("warning", "error"):
            print(f"mcp-auth: {event.message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- commands


def _print_migration_note(event: object) -> None:
    """Say on stderr what an authorization server migration did (the GUI logs it)."""
    from mcp_auth_desktop.core.migration import MigrationNote

    if isinstance(event, MigrationNote):
        print(f"mcp-auth: {event.message}", file=sys.stderr)


async def _run(args: argparse.Namespace) -> int:
    from mcp_auth_desktop.runtime import open_runtime

    client_secret = _read_secret_stdin() if getattr(args, "client_secret_stdin", False) else None
    browser = None
    no_browser = getattr(args, "no_browser", False) or getattr(args, "paste", False)
    if not no_browser and args.command in ("login", "call"):
        from mcp_auth_desktop.core.browser import SystemBrowser

        browser = SystemBrowser()
    # The same wiring as the GUI's; the audit trail is kept when secrets are saved. Migration
    # notes are listened for from the start (loading the servers may migrate one).
    runtime = await open_runtime(passphrase_provider=_passphrase_provider(), browser=browser,
                                 background=False, listeners=(_print_migration_note,))
    try:
        return await _dispatch(runtime.manager, args, client_secret)
    except errors.ServerNotFoundError as exc:
        from mcp_auth_desktop.cli.option_checks import did_you_mean

        ref = getattr(args, "server", None)
        guess = did_you_mean(ref, [v.name for v in runtime.manager.servers()]) if ref else None
        if guess is None:
            raise
        raise errors.ServerNotFoundError(f"{exc.message} Did you mean {guess!r}?") from None
    finally:
        await runtime.aclose()


async def _dispatch(manager: Any, args: argparse.Namespace, client_secret: str | None) -> int:
    storage = manager.storage_location.describe()
    command = args.command
    on_url: Callable[[str], None] | None = _print_url if getattr(args, "no_browser", False) else None
    if command == "login" and on_url is None and not args.paste:
        from mcp_auth_desktop.cli import paste_back

        if paste_back.no_display():
            hint = paste_back.NO_DISPLAY_HINT.format(name=shlex.quote(args.server))
            if not sys.stdin.isatty():
                raise UsageError(hint)
            print(f"mcp-auth: {hint}. Continuing with --paste.", file=sys.stderr)
            args.paste = True
    if getattr(args, "paste", False):
        from mcp_auth_desktop.cli.paste_back import PasteBack

        on_url = PasteBack()
    if command in ("login", "call"):
        manager.subscribe(_SignInNarrator(manager, browser=on_url is None))

    if command == "add":
        try:
            view = await manager.add_server(
                args.url,
                name=args.name,
                client_id=args.client_id,
                client_secret=client_secret,
                client_auth_method=args.client_auth_method,
                scopes=_scopes_from(args),
                options=_options_from(args),
                discover=not args.no_discover,
            )
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

    if command == "edit":
        from mcp_auth_desktop.cli import edit as edit_command

        return await edit_command.run(manager, args)

    if command == "login":
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
            view = await manager.add_server(
                args.server,
                name=args.name,
                client_id=args.client_id,
                client_secret=client_secret,
                client_auth_method=args.client_auth_method,
                scopes=_scopes_from(args),
                options=_options_from(args),
            )
            ref = view.id
        view = await manager.sign_in(
            ref, on_authorization_url=on_url, scopes=_scopes_from(args), re_register=args.re_register
        )
        if args.json:
            print(dumps(view_to_dict(view)))
        else:
            print(f"Signed in to {view.name}; token valid until {format_when(view.expires_at)}.")
        return EXIT_OK

    if command == "token":
        tokens = await manager.token_info(args.server, min_ttl=args.min_ttl)
        if args.json:
            sys.stdout.write(token_set_json(tokens.to_dict()))
        else:
            sys.stdout.write(format_token(tokens.access_token, args.format))
        return EXIT_OK

    if command == "list":
        views = manager.servers()
        if args.json:
            print(dumps({"storage": storage, "servers": [view_to_dict(v) for v in views]}))
        else:
            print(format_list(views, storage))
        return EXIT_OK

    if command == "status":
        from mcp_auth_desktop.cli import status as status_command

        return status_command.run(manager, args, storage)

    if command == "whoami":
        from mcp_auth_desktop.cli import whoami as whoami_command

        return whoami_command.run(manager, args)

    if command == "refresh":
        view = await manager.refresh(args.server, force=True)
        if args.json:
            print(dumps(view_to_dict(view)))
        else:
            print(f"Refreshed {view.name}; token valid until {format_when(view.expires_at)}.")
        return EXIT_OK

    if command in ("revoke", "remove"):
        name = manager.get(args.server).name
        # Earlier revocations that failed get another chance first.
        await manager.retry_pending_revocations()
        report = await (manager.revoke if command == "revoke" else manager.remove)(args.server)
        if args.json:
            print(dumps({"server": name, **report_to_dict(report)}))
        else:
            print(_report_text(report, ("Revoked " if command == "revoke" else "Removed ") + name))
        retried = report.errors and report.supported and not report.client_unknown
        return EXIT_TRANSIENT if retried else EXIT_OK

    if command == "forget-everything":
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("forget-everything deletes every sign-in: confirm with --yes")
            answer = await asyncio.to_thread(
                input, "Delete every server, token and the vault itself? Type 'forget': "
            )
            if answer.strip() != "forget":
                print("Nothing was deleted.", file=sys.stderr)
                return EXIT_USAGE
        outcome = await manager.forget_everything(revoke=not args.no_revoke)
        if args.json:
            print(dumps({"servers": [{"server": n, "outcome": o} for n, o in outcome],
                         "vault_deleted": True}))
        else:
            for name, text in outcome:
                print(f"{name}: {text}")
            print("Everything is forgotten: the vault and its key are deleted.")
        return EXIT_OK

    if command == "rename":
        view = await manager.rename(args.server, args.new_name)
        print(dumps(view_to_dict(view)) if args.json else f"Renamed to {view.name}.")
        return EXIT_OK

    if command == "call":
        params: dict[str, Any] | None = None
        if args.params:
            try:
                parsed = json.loads(args.params)
            except ValueError as exc:
                raise UsageError(f"PARAMS_JSON is not valid JSON: {exc}") from None
            if not isinstance(parsed, dict):
                raise UsageError("PARAMS_JSON must be a JSON object")
            params = parsed
        interactive = args.sign_in if args.sign_in is not None else sys.stderr.isatty()
        result = await manager.call(
            args.server,
            args.method,
            params,
            interactive=interactive,
            on_authorization_url=on_url,
        )
        print(dumps(result))
        # Which revision the server speaks and what it said about itself, on stderr
        # so the JSON on stdout stays machine-readable; server text made terminal-safe.
        described = manager.get(args.server).mcp_server
        for label, text in description_fields(described) if described else ():
            print(f"{label}: {text}", file=sys.stderr)
        return EXIT_OK

    raise UsageError(f"unknown command {command!r}")


def main(argv: Sequence[str] | None = None) -> int:
    withhold_secrets_from_children()  # before anything can start a child (issue 15 #9)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "bridge":  # stdout is the protocol: its own logging and loop
        from mcp_auth_desktop.cli import bridge as bridge_command

        return bridge_command.run(args)
    install_safe_output()  # every line printed from here on is terminal-safe (issue 15 #5)
    if args.command in ("add", "login", "edit"):
        from mcp_auth_desktop.cli.option_checks import OptionError, check_server_options

        try:
            check_server_options(args)
        except OptionError as exc:
            print(f"mcp-auth: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    _configure_logging(args.verbose)
    try:
        if args.command == "setup-client":  # settings only: no keyring, vault or event loop
            from mcp_auth_desktop.cli import setup_client

            return setup_client.run(args)
        if args.command == "list" or (args.command == "status" and args.server is None):
            from mcp_auth_desktop.cli.empty_home import print_if_empty

            if print_if_empty(args):  # nothing stored: no keyring or passphrase needed
                return EXIT_OK
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        print("mcp-auth: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"mcp-auth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except errors.McpAuthError as exc:
        print(f"mcp-auth: {exc.user_message}", file=sys.stderr)
        code = exit_code_for(exc)
        server = getattr(args, "server", None)
        hint = stale_client.server_failure_hint(server, exc) if server else None
        if code == EXIT_SIGN_IN and server and args.command != "login":
            print(f"mcp-auth: to sign in: mcp-auth login {shlex.quote(server)}", file=sys.stderr)
        elif hint and args.command in ("call", "token", "refresh"):
            print(f"mcp-auth: {hint}", file=sys.stderr)
        elif isinstance(exc, errors.ServerNotFoundError):
            print("mcp-auth: `mcp-auth list` shows the servers you have added", file=sys.stderr)
        return code


if __name__ == "__main__":
    raise SystemExit(main())
