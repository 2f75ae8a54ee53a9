"""The argparse side of ``mcp-auth``: the top parser, its epilog, "did you mean" on errors.

Global options: ``-v/--verbose`` (every command) and ``--json`` (the commands that
print JSON) may come before the command or after it. argparse parses options per
level (the top parser, then the command's), so an option is known at one level
only; :func:`parse_command_line` moves the global options given before the command
to just after its name, and the command's parser judges them there: the same
meaning, conflicts (``token --format``) and refusals (``bridge`` has no ``--json``)
whichever side they were typed on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol

from mcp_auth_desktop import __version__
from mcp_auth_desktop.cli.exit_codes import EXIT_CODES, EXIT_USAGE

__all__ = ["GLOBAL_OPTIONS", "AddCommand", "command_first", "command_parsers", "new_parser",
           "parse_command_line"]

#: Options of ``mcp-auth`` that a command takes too: typed before the command, they are
#: moved after its name. They take no value, so the first word that is no option is the
#: command (see :func:`command_first`).
GLOBAL_OPTIONS = ("-v", "--verbose", "--json")


class AddCommand(Protocol):
    """Adds one sub-parser with the shared description, epilog and (unless not) ``--json``."""

    def __call__(self, name: str, help_text: str, *,
                 json_flag: bool = True) -> argparse.ArgumentParser: ...


def _epilog() -> str:
    codes = "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())
    return (
        "A server can be named by its name, its id or its URL wherever a command takes one.\n"
        "Data lives in $MCP_AUTH_DESKTOP_HOME (default: the platform's data directory) and is\n"
        "shared with the desktop app, which may run at the same time.\n"
        "-v/--verbose and --json may be given before the command or after it.\n\n"
        f"exit codes:\n{codes}\n\n"
        "examples:\n"
        "  mcp-auth add https://mcp.example.com/mcp --name example\n"
        "  mcp-auth login example\n"
        '  curl -H "Authorization: Bearer $(mcp-auth token example)" ...\n'
        "  mcp-auth setup-client claude-code example\n"
        "  mcp-auth call example tools/list\n"
    )


class _Parser(argparse.ArgumentParser):
    #: On a command's parser: the command's name and the top parser (for the hints).
    command: str | None = None
    top: argparse.ArgumentParser | None = None

    def error(self, message: str) -> NoReturn:
        from mcp_auth_desktop.cli.option_checks import suggest_for_parser_error

        self.print_usage(sys.stderr)
        if self.top is None or self.command is None:
            # The top parser: offer every command's options.
            options = set(self._option_string_actions)
            for sub in command_parsers(self).values():
                options.update(sub._option_string_actions)
            hint = suggest_for_parser_error(message, options)
        else:
            own = set(self._option_string_actions)
            elsewhere: dict[str, list[str]] = {}
            for name, sub in command_parsers(self.top).items():
                for option in sub._option_string_actions:
                    if name != self.command and option not in own:
                        elsewhere.setdefault(option, []).append(name)
            # Options of mcp-auth itself that no command takes (--version).
            before = set(self.top._option_string_actions) - own - set(GLOBAL_OPTIONS)
            hint = suggest_for_parser_error(message, own, command=self.command,
                                            elsewhere=elsewhere, before_command=before)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n" + (f"{self.prog}: {hint}\n" if hint else ""))


def command_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser of each command of the top ``parser``, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_first(argv: Sequence[str], commands: Sequence[str]) -> list[str]:
    """``argv`` with the :data:`GLOBAL_OPTIONS` typed before the command moved to just after it.

    ``mcp-auth --json -v edit X`` becomes ``mcp-auth edit --json -v X``. Anything else is
    left as typed: other options before the command (``--version``, ``-h``, a typo that
    argparse reports), everything after it, and a line without a known command.
    """
    words = list(argv)
    # The first word that is no option: the command, or "--" (then nothing moves).
    i = next((n for n, w in enumerate(words) if w in ("-", "--") or not w.startswith("-")), None)
    if i is None or words[i] not in commands:
        return words
    before = words[:i]
    moved = [w for w in before if w in GLOBAL_OPTIONS]
    return [w for w in before if w not in GLOBAL_OPTIONS] + [words[i], *moved, *words[i + 1:]]


def parse_command_line(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` with the global options judged by the command's parser (see above).

    A word nobody took is reported by the chosen command's parser, so the hint knows
    which command it was typed for.
    """
    commands = command_parsers(parser)
    args, extras = parser.parse_known_args(command_first(argv, tuple(commands)))
    if extras:
        commands[args.command].error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def new_parser() -> tuple[argparse.ArgumentParser, AddCommand]:
    """The top parser with its global options, and the function that adds a sub-command."""
    parser = _Parser(
        prog="mcp-auth",
        description="Sign in to MCP servers, keep their tokens fresh and hand them to scripts.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens on stderr")
    parser.add_argument("--json", action="store_true",
                        help="print JSON instead of text (the commands that can; the same as "
                             "after the command)")
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
        p.command, p.top = name, parser
        # SUPPRESS: not given here, the top parser's value stands (argparse copies a
        # command's defaults over the top parser's values).
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="log what happens on stderr")
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON instead of text")
        return p

    return parser, add_command
