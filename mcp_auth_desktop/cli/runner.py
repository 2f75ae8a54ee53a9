"""Runs the chosen command: the set-up around every handler, and how every error ends.

In one place for all commands: terminal-safe output, the add-server option checks,
logging, the runtime (the same wiring as the GUI's) opened and closed around a
manager command, "did you mean" for a server name, and each error printed once
with its documented exit code and the hint that helps (:mod:`.exit_codes`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import shlex
import sys
from collections.abc import Callable

from mcp_auth_desktop.cli.exit_codes import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SIGN_IN,
    EXIT_USAGE,
    UsageError,
    exit_code_for,
)
from mcp_auth_desktop.cli.render import install_safe_output, log_formatter
from mcp_auth_desktop.cli.table import Command, ManagerHandler, Session
from mcp_auth_desktop.core import errors, stale_client

__all__ = ["run_command"]


def run_command(command: Command, args: argparse.Namespace) -> int:
    """Run ``command``'s handler on the parsed ``args``; return the exit code."""
    if command.run_protocol is not None:  # stdout is the protocol: its own logging and loop
        return command.run_protocol(args)
    install_safe_output()  # every line printed from here on is terminal-safe (issue 15 #5)
    if command.checks_server_options:
        from mcp_auth_desktop.cli.option_checks import OptionError, check_server_options

        try:
            check_server_options(args)
        except OptionError as exc:
            print(f"mcp-auth: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    _configure_logging(args.verbose)
    try:
        if command.run_settings is not None:  # settings only: no keyring, vault or event loop
            return command.run_settings(args)
        if command.answers_empty_home is not None and command.answers_empty_home(args):
            from mcp_auth_desktop.cli.empty_home import print_if_empty

            if print_if_empty(args):  # nothing stored: no keyring or passphrase needed
                return EXIT_OK
        if command.run is None:
            raise TypeError(f"command {command.name!r} has no handler")
        return asyncio.run(_with_runtime(command, command.run, args))
    except KeyboardInterrupt:
        print("mcp-auth: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"mcp-auth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except errors.McpAuthError as exc:
        return _report(command, args, exc)


async def _with_runtime(command: Command, handler: ManagerHandler, args: argparse.Namespace) -> int:
    from mcp_auth_desktop.runtime import open_runtime

    client_secret = None
    if command.reads_client_secret and args.client_secret_stdin:
        from mcp_auth_desktop.cli.server_args import read_secret_stdin

        client_secret = read_secret_stdin()
    browser = None
    if command.opens_browser is not None and command.opens_browser(args):
        from mcp_auth_desktop.core.browser import SystemBrowser

        browser = SystemBrowser()
    # The same wiring as the GUI's; the audit trail is kept when secrets are saved. Migration
    # notes are listened for from the start (loading the servers may migrate one).
    runtime = await open_runtime(passphrase_provider=_passphrase_provider(), browser=browser,
                                 background=False, listeners=(_print_migration_note,))
    try:
        manager = runtime.manager
        return await handler(Session(manager, manager.storage_location.describe(), client_secret),
                             args)
    except errors.ServerNotFoundError as exc:
        from mcp_auth_desktop.cli.option_checks import did_you_mean

        ref = getattr(args, "server", None)
        guess = did_you_mean(ref, [v.name for v in runtime.manager.servers()]) if ref else None
        if guess is None:
            raise
        raise errors.ServerNotFoundError(f"{exc.message} Did you mean {guess!r}?") from None
    finally:
        await runtime.aclose()


def _report(command: Command, args: argparse.Namespace, exc: errors.McpAuthError) -> int:
    """Print the error and the hint that helps on stderr; return its exit code."""
    print(f"mcp-auth: {exc.user_message}", file=sys.stderr)
    code = exit_code_for(exc)
    server = getattr(args, "server", None)
    hint = stale_client.server_failure_hint(server, exc) if server else None
    if code == EXIT_SIGN_IN and server and command.sign_in_hint:
        print(f"mcp-auth: to sign in: mcp-auth login {shlex.quote(server)}", file=sys.stderr)
    elif hint and command.stale_client_hint:
        print(f"mcp-auth: {hint}", file=sys.stderr)
    elif isinstance(exc, errors.ServerNotFoundError):
        print("mcp-auth: `mcp-auth list` shows the servers you have added", file=sys.stderr)
    return code


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


def _print_migration_note(event: object) -> None:
    """Say on stderr what an authorization server migration did (the GUI logs it)."""
    from mcp_auth_desktop.core.migration import MigrationNote

    if isinstance(event, MigrationNote):
        print(f"mcp-auth: {event.message}", file=sys.stderr)
