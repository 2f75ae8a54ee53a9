"""`mcp-auth list` / `status` on a home with no server and no vault (issue 16).

Nothing is secret there, so nothing needs the keyring or a passphrase: the
empty list is printed (exit 0) without opening the vault, which on a machine
without a keyring would otherwise fail before saying that there is nothing.
"""

from __future__ import annotations

import argparse

from mcp_auth_desktop.cli.render import dumps, format_list

__all__ = ["print_if_empty"]

NO_VAULT = "no vault yet (it is created with the first server)"


def print_if_empty(args: argparse.Namespace) -> bool:
    """Print the empty listing and return True when this home has neither servers nor a vault."""
    from mcp_auth_desktop.storage.paths import app_paths
    from mcp_auth_desktop.storage.settings import FileSettings

    paths = app_paths()
    if paths.vault_file.exists():
        return False
    if paths.settings_file.exists():
        servers = FileSettings(paths).load_sync().get("servers")
        if servers:
            return False
    if args.json:
        print(dumps({"storage": NO_VAULT, "servers": []}))
    else:
        print(format_list([], NO_VAULT))
    return True
