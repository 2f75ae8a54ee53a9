"""The MCP clients ``mcp-auth setup-client`` knows: where each keeps its servers, and what it reads.

Sources for every path and field are in docs/clients.md. Each client gets the
best way it supports to use our tokens:

* Claude Code takes a URL plus a ``headersHelper`` command, run on every
  connection (and again after a 401/403), whose stdout is a JSON object of
  headers: ``mcp-auth token ID --format json`` prints exactly that.
* Claude Desktop, Cursor, Windsurf and VS Code have no header helper in their
  config files (static headers would freeze one short-lived token), so they
  start ``mcp-auth bridge ID``, a local stdio server forwarding to the remote
  one with fresh tokens.

Servers are referred to by their id, which a rename does not change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any

__all__ = ["CLIENTS", "Client", "client", "is_ours", "shell_word"]


def shell_word(word: str, *, windows: bool) -> str:
    """``word`` as one word of a shell command line (Claude Code runs helpers through a shell)."""
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./\\-]+", word):
        return word
    if windows:
        return '"' + word.replace('"', '""') + '"'
    return "'" + word.replace("'", "'\"'\"'") + "'"


@dataclass(frozen=True)
class Client:
    id: str
    title: str
    #: Keys from the top of the file to the object that holds servers by name.
    servers_key: tuple[str, ...]
    #: JSON with comments and trailing commas (VS Code), else strict JSON.
    comments: bool
    scopes: tuple[str, ...]
    #: "headers-helper", "bridge" or "bridge-typed" (the entry needs "type": "stdio").
    style: str

    def path(
        self,
        scope: str,
        *,
        platform: str,
        env: Mapping[str, str],
        home: str,
        project: str | None = None,
    ) -> PurePath:
        """Where the configuration file is, on ``platform`` (a ``sys.platform`` value)."""
        windows = platform.startswith("win")
        pure: type[PurePath] = PureWindowsPath if windows else PurePosixPath
        if scope not in self.scopes:
            raise ValueError(f"{self.title} has no {scope} configuration (only {', '.join(self.scopes)})")
        if scope == "project":
            base = pure(project or ".")
            return base.joinpath(*_PROJECT_FILES[self.id])
        h = pure(home)
        appdata = pure(env.get("APPDATA") or str(h / "AppData" / "Roaming"))
        xdg = pure(env.get("XDG_CONFIG_HOME") or str(h / ".config"))
        mac_support = h / "Library" / "Application Support"
        if self.id == "claude-desktop":
            if windows:
                return appdata / "Claude" / "claude_desktop_config.json"
            if platform == "darwin":
                return mac_support / "Claude" / "claude_desktop_config.json"
            return xdg / "Claude" / "claude_desktop_config.json"  # unofficial Linux builds
        if self.id == "claude-code":
            return h / ".claude.json"
        if self.id == "cursor":
            return h / ".cursor" / "mcp.json"
        if self.id == "windsurf":
            return h / ".codeium" / "windsurf" / "mcp_config.json"
        if self.id == "vscode":
            if windows:
                return appdata / "Code" / "User" / "mcp.json"
            if platform == "darwin":
                return mac_support / "Code" / "User" / "mcp.json"
            return xdg / "Code" / "User" / "mcp.json"
        raise ValueError(f"no path for {self.id}")

    def entry(self, *, url: str, server_id: str, command: str, windows: bool) -> dict[str, Any]:
        """The server entry this client reads."""
        if self.style == "headers-helper":
            helper = f"{shell_word(command, windows=windows)} token {server_id} --format json"
            return {"type": "http", "url": url, "headersHelper": helper}
        bridge: dict[str, Any] = {"command": command, "args": ["bridge", server_id]}
        if self.style == "bridge-typed":
            return {"type": "stdio", **bridge}
        return bridge


_PROJECT_FILES: dict[str, tuple[str, ...]] = {
    "claude-code": (".mcp.json",),
    "cursor": (".cursor", "mcp.json"),
    "vscode": (".vscode", "mcp.json"),
}

CLIENTS: dict[str, Client] = {
    c.id: c
    for c in (
        Client("claude-desktop", "Claude Desktop", ("mcpServers",), False, ("user",), "bridge"),
        Client("claude-code", "Claude Code", ("mcpServers",), False, ("user", "project"), "headers-helper"),
        Client("cursor", "Cursor", ("mcpServers",), False, ("user", "project"), "bridge"),
        Client("vscode", "VS Code", ("servers",), True, ("user", "project"), "bridge-typed"),
        Client("windsurf", "Windsurf", ("mcpServers",), False, ("user",), "bridge"),
    )
}


def client(client_id: str) -> Client:
    try:
        return CLIENTS[client_id]
    except KeyError:
        raise ValueError(
            f"unknown client {client_id!r}; one of: {', '.join(CLIENTS)}"
        ) from None


def is_ours(entry: object) -> bool:
    """Whether an existing entry was written by setup-client (so replacing it loses nothing)."""
    if not isinstance(entry, dict):
        return False
    helper = entry.get("headersHelper")
    if isinstance(helper, str) and re.search(r"mcp-auth(\.exe)?['\"]? token ", helper):
        return True
    command, args = entry.get("command"), entry.get("args")
    name = os.path.basename(str(command).replace("\\", "/")) if isinstance(command, str) else ""
    return name in ("mcp-auth", "mcp-auth.exe") and isinstance(args, list) and args[:1] == ["bridge"]
