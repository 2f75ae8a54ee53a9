"""The table of ``mcp-auth`` commands, in the order ``mcp-auth --help`` lists them.

To add a command: describe it with a :class:`~mcp_auth_desktop.cli.table.Command`
beside its handler in the module that owns it (or a new one here) and list it below.
"""

from __future__ import annotations

from mcp_auth_desktop.cli.commands import (
    bridge,
    call,
    edit,
    revocation,
    servers,
    setup_client,
    signin,
    status,
    tokens,
    whoami,
)
from mcp_auth_desktop.cli.table import Command

__all__ = ["COMMANDS"]

COMMANDS: tuple[Command, ...] = (
    servers.ADD,
    signin.LOGIN,
    tokens.TOKEN,
    servers.LIST,
    status.STATUS,
    whoami.WHOAMI,
    tokens.REFRESH,
    revocation.REVOKE,
    revocation.REMOVE,
    revocation.FORGET_EVERYTHING,
    edit.EDIT,
    servers.RENAME,
    call.CALL,
    bridge.BRIDGE,
    setup_client.SETUP_CLIENT,
)
