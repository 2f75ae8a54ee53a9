"""What a command of ``mcp-auth`` is: its entry in the table of commands.

Each module under :mod:`.commands` describes its commands with :class:`Command`
records beside their handlers; :data:`.commands.COMMANDS` lists them in the order
``--help`` shows them; ``main.py`` builds one sub-parser per record and
:mod:`.runner` runs the chosen record's handler. The flags here say what the
runner does around a handler, so no handler repeats that set-up.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the manager is imported when a command runs, not to parse arguments
    from mcp_auth_desktop.core.manager import TokenManager

__all__ = ["ArgsTest", "Command", "ManagerHandler", "PlainHandler", "Session"]


@dataclass(frozen=True)
class Session:
    """What a manager command runs with: the started manager of one ``open_runtime()``."""

    manager: TokenManager
    #: Where secrets are kept, in words (``list`` and ``status`` print it).
    storage: str
    #: The client secret read from standard input before storage was opened, if asked for.
    client_secret: str | None = None


ManagerHandler = Callable[[Session, argparse.Namespace], Awaitable[int]]
PlainHandler = Callable[[argparse.Namespace], int]
ArgsTest = Callable[[argparse.Namespace], bool]


@dataclass(frozen=True, kw_only=True)
class Command:
    """One sub-command: its parser and exactly one handler, and what to do around it."""

    name: str
    help: str
    #: Adds the command's arguments to its sub-parser (made with ``help`` and ``--json``).
    build: Callable[[argparse.ArgumentParser], None] | None = None
    json_flag: bool = True
    #: Runs with the manager: storage (keyring or passphrase) is opened for it.
    run: ManagerHandler | None = None
    #: Runs from the settings file alone: no keyring, vault or event loop.
    run_settings: PlainHandler | None = None
    #: Owns stdout (a protocol): runs before terminal-safe output and logging are set up.
    run_protocol: PlainHandler | None = None
    #: The add-server options are checked before anything else (each error names its flag).
    checks_server_options: bool = False
    #: ``--client-secret-stdin`` is read before storage is opened.
    reads_client_secret: bool = False
    #: Whether the system browser is to be opened for a sign-in with these arguments.
    opens_browser: ArgsTest | None = None
    #: Whether an empty home is answered without opening storage (no keyring needed).
    answers_empty_home: ArgsTest | None = None
    #: On a sign-in error, name `mcp-auth login NAME` (not for `login` itself).
    sign_in_hint: bool = True
    #: On a server failure, say how to register again when that may help.
    stale_client_hint: bool = False

    def __post_init__(self) -> None:
        handlers = (self.run, self.run_settings, self.run_protocol)
        if sum(h is not None for h in handlers) != 1:
            raise TypeError(f"command {self.name!r} needs exactly one handler")
