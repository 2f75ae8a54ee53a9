"""The argparse side of ``mcp-auth``: the top parser, its epilog, "did you mean" on errors."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Protocol

from mcp_auth_desktop import __version__
from mcp_auth_desktop.cli.exit_codes import EXIT_CODES, EXIT_USAGE

__all__ = ["AddCommand", "new_parser"]


class AddCommand(Protocol):
    """Adds one sub-parser with the shared description, epilog and (unless not) ``--json``."""

    def __call__(self, name: str, help_text: str, *,
                 json_flag: bool = True) -> argparse.ArgumentParser: ...


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


def new_parser() -> tuple[argparse.ArgumentParser, AddCommand]:
    """The top parser with its global options, and the function that adds a sub-command."""
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

    def add_command(name: str, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
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

    return parser, add_command
