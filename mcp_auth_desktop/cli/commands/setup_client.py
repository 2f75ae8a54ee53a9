"""``mcp-auth setup-client CLIENT NAME``: the CLI face of :mod:`mcp_auth_desktop.clients.setup`.

Only the settings file is read to find the server (its id and URL): no
keyring, no vault and no network are needed to write a client's config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcp_auth_desktop.cli.table import Command
from mcp_auth_desktop.clients.targets import CLIENTS
from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.models import ServerConfig

__all__ = ["SETUP_CLIENT", "find_server", "run"]

_HELP = "write a server into an MCP client's configuration (or --remove it)"


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("client", metavar="CLIENT", choices=tuple(CLIENTS),
                   help="one of: " + ", ".join(CLIENTS))
    p.add_argument("server", metavar="NAME|URL")
    p.add_argument("--scope", choices=("user", "project"), default="user",
                   help="user (default) or project (Claude Code, Cursor, VS Code)")
    p.add_argument("--project", metavar="DIR", help="the project folder for --scope project "
                   "(default: the current folder)")
    p.add_argument("--config", metavar="PATH", type=Path,
                   help="edit this file instead of the client's usual one")
    p.add_argument("--entry-name", metavar="KEY",
                   help="the key of the entry in the client's config (default: the server's name)")
    p.add_argument("--command", dest="mcp_auth_command", metavar="PATH",
                   help="the mcp-auth to run (default: the one found on PATH, as an absolute path)")
    p.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    p.add_argument("--remove", action="store_true", help="take the entry out again")
    p.add_argument("--force", action="store_true",
                   help="replace an entry of that name that mcp-auth did not write")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the snippet to paste by hand, change nothing")


def find_server(ref: str) -> ServerConfig:
    """The server ``ref`` names (id, name, or URL), from the settings file alone."""
    from mcp_auth_desktop.core.manager import normalize_server_url
    from mcp_auth_desktop.core.models import ServerOptions
    from mcp_auth_desktop.core.registry import snapshot_from_document
    from mcp_auth_desktop.storage.paths import app_paths
    from mcp_auth_desktop.storage.settings import FileSettings

    paths = app_paths()
    paths.ensure()
    servers = snapshot_from_document(FileSettings(paths).load_sync()).servers
    text = ref.strip()
    for s in servers:
        if s.id == text:
            return s
    for s in servers:
        if s.name.lower() == text.lower():
            return s
    try:
        url = normalize_server_url(text, ServerOptions(allow_insecure_loopback=True))
    except errors.McpAuthError:
        url = None
    for s in servers:
        if url is not None and s.url.rstrip("/") == url.rstrip("/"):
            return s
    raise errors.ServerNotFoundError(
        f"No server named {errors.sanitize_server_text(text, 120)!r}: "
        "check its name, id or URL in the list of servers."
    )


def run(args: argparse.Namespace) -> int:
    from mcp_auth_desktop.clients import setup  # when this command runs, not to parse arguments

    server = find_server(args.server)
    entry_name = args.entry_name or server.name
    if args.print_only:
        sys.stdout.write(setup.snippet(args.client, entry_name=entry_name, server_id=server.id,
                                       url=server.url, command=args.mcp_auth_command))
        return 0
    change = setup.plan(
        args.client,
        entry_name=entry_name,
        server_id=server.id,
        url=server.url,
        scope=args.scope,
        remove=args.remove,
        config_path=args.config,
        project=args.project,
        command=args.mcp_auth_command,
        force=args.force,
    )
    if args.dry_run:
        sys.stdout.write(change.diff() or f"{change.summary()} (already as wanted).\n")
        return 0
    backup = setup.apply(change)
    if change.changed:
        print(change.summary() + ".")
    elif args.remove:
        print(f"{change.summary()}: there is no {change.entry_name!r} entry to remove.")
    else:
        print(f"{change.summary()}: it is already set up.")
    if backup is not None:
        print(f"Backup of the previous file: {backup}")
    if change.changed and not args.remove:
        print(f"Restart {change.client.title} (or reload its MCP servers) to use it.")
    return 0


SETUP_CLIENT = Command(name="setup-client", help=_HELP, build=_build, json_flag=False,
                       run_settings=run)
