"""``mcp-auth``: the command line of MCP Auth Desktop.

Every command opens the same storage as the GUI (``MCP_AUTH_DESKTOP_HOME``
or the platform default), runs one manager operation without a background
loop, and exits with a documented code. It is safe to run while the GUI
runs: both go through the vault's cross-process locks, so a token is
refreshed once however many processes ask.

The commands are a table (:data:`.commands.COMMANDS`): this module builds one
sub-parser per entry and hands the chosen entry to :func:`.runner.run_command`,
which does the set-up and error handling every command shares.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mcp_auth_desktop.cli.commands import COMMANDS
from mcp_auth_desktop.cli.exit_codes import (
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_SIGN_IN,
    EXIT_STORAGE,
    EXIT_TRANSIENT,
    EXIT_USAGE,
    UsageError,
    exit_code_for,
)
from mcp_auth_desktop.cli.parser import new_parser, parse_command_line
from mcp_auth_desktop.cli.runner import run_command
from mcp_auth_desktop.cli.table import Command
from mcp_auth_desktop.core.childenv import withhold_secrets_from_children

__all__ = ["main", "build_parser", "parse_args", "exit_code_for", "EXIT_CODES", "EXIT_ERROR", "EXIT_INTERRUPTED",
           "EXIT_NOT_FOUND", "EXIT_OK", "EXIT_SIGN_IN", "EXIT_STORAGE", "EXIT_TRANSIENT",
           "EXIT_USAGE", "UsageError"]


def build_parser() -> argparse.ArgumentParser:
    parser, add_command = new_parser()
    for command in COMMANDS:
        p = add_command(command.name, command.help, json_flag=command.json_flag)
        if command.build is not None:
            command.build(p)
        p.set_defaults(handler=command)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """``argv`` parsed as ``main`` does: global options before or after the command alike."""
    return parse_command_line(build_parser(), argv)


def main(argv: Sequence[str] | None = None) -> int:
    withhold_secrets_from_children()  # before anything can start a child (issue 15 #9)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = args.handler
    if not isinstance(command, Command):
        raise TypeError(f"no handler for {args.command!r}")
    return run_command(command, args)


if __name__ == "__main__":
    raise SystemExit(main())
