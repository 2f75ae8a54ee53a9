"""Put an MCP Auth Desktop server into an MCP client's configuration, or take it out.

:func:`plan` reads the client's file and works out the new text (changing
only our entry, see :mod:`.jsonc`); :func:`apply` writes it after a
timestamped backup of the original, atomically, through a symlink to its
target. Nothing is written when nothing changes, and a file the client could
not read either (a syntax error, an unexpected shape) is refused with
:class:`ClientConfigError`, untouched. The CLI (``mcp-auth setup-client``)
and the GUI ("Use in…", "Copy config snippet") both call this module.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_auth_desktop.core.errors import ClientConfigError

from .jsonc import Document, JsoncError
from .targets import Client, client, is_ours

__all__ = ["Change", "apply", "default_command", "plan", "snippet"]


def default_command() -> str:
    """The ``mcp-auth`` to put in configs: an absolute path when one is found.

    Desktop apps often start with a shorter PATH than a terminal (no venv, no
    ``~/.local/bin``), so a bare ``mcp-auth`` may not be found by them.
    """
    found = shutil.which("mcp-auth")
    if found is None:
        sibling = Path(sys.executable).with_name("mcp-auth.exe" if os.name == "nt" else "mcp-auth")
        found = str(sibling) if sibling.exists() else None
    return os.path.abspath(found) if found else "mcp-auth"


@dataclass(frozen=True)
class Change:
    """What :func:`apply` would do to one client's file."""

    client: Client
    scope: str
    path: Path
    entry_name: str
    action: str  # "add", "update", "remove" or "none"
    before: str | None  # None: the file does not exist
    after: str

    @property
    def changed(self) -> bool:
        return self.action != "none"

    def diff(self) -> str:
        if not self.changed:
            return ""
        old = (self.before or "").splitlines(keepends=True)
        new = self.after.splitlines(keepends=True)
        label = str(self.path)
        lines = difflib.unified_diff(
            old, new, fromfile=label if self.before is not None else "/dev/null", tofile=label
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def summary(self) -> str:
        where = f"{self.client.title} ({self.scope}): {self.path}"
        return {
            "add": f"Added {self.entry_name!r} to {where}",
            "update": f"Updated {self.entry_name!r} in {where}",
            "remove": f"Removed {self.entry_name!r} from {where}",
            "none": f"Nothing to change in {where}",
        }[self.action]


def _read(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ClientConfigError(f"Cannot read {path}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientConfigError(f"{path} is not UTF-8 text; it was left unchanged.") from None


def plan(
    client_id: str,
    *,
    entry_name: str,
    server_id: str,
    url: str,
    scope: str = "user",
    remove: bool = False,
    config_path: Path | None = None,
    project: str | None = None,
    command: str | None = None,
    force: bool = False,
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    home: str | None = None,
) -> Change:
    """Work out the change to one client's configuration; reads, never writes."""
    try:
        target = client(client_id)
        path = config_path or Path(
            target.path(
                scope,
                platform=platform,
                env=os.environ if env is None else env,
                home=home or os.path.expanduser("~"),
                project=project or os.getcwd(),
            )
        )
    except ValueError as exc:
        raise ClientConfigError(str(exc)) from None
    before = _read(path)
    try:
        doc = Document(before or "", comments=target.comments)
        existing = doc.get(target.servers_key, entry_name)
    except JsoncError as exc:
        kind = "JSON with comments" if target.comments else "strict JSON"
        raise ClientConfigError(
            f"{path} cannot be parsed as {target.title} reads it ({kind}): {exc}. "
            "It was left unchanged; fix it (or move it away) and run this again."
        ) from None
    if existing is not None and not is_ours(existing) and not force:
        raise ClientConfigError(
            f"{path} already has a server named {entry_name!r} that mcp-auth did not write. "
            "Choose another name with --entry-name, or replace it with --force."
        )
    try:
        if remove:
            action = "remove" if existing is not None and doc.delete(target.servers_key, entry_name) else "none"
        else:
            entry = target.entry(
                url=url,
                server_id=server_id,
                command=command or default_command(),
                windows=platform.startswith("win"),
            )
            changed = doc.set(target.servers_key, entry_name, entry)
            action = ("update" if existing is not None else "add") if changed else "none"
    except JsoncError as exc:
        raise ClientConfigError(f"{path} cannot be edited safely: {exc}. It was left unchanged.") from None
    after = doc.dump() if action != "none" else (before or "")
    return Change(target, scope, path, entry_name, action, before, after)


def _backup(path: Path, stamp: str) -> Path:
    target = path.with_name(f"{path.name}.bak-mcp-auth-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.bak-mcp-auth-{stamp}-{n}")
    shutil.copy2(path, target)
    return target


def _write(path: Path, text: str) -> None:
    real = Path(os.path.realpath(path))  # through a symlink (dotfiles), never replacing it
    real.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = real.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def apply(change: Change, *, stamp: str | None = None) -> Path | None:
    """Write ``change`` (a backup of the original first); returns the backup's path, if any."""
    if not change.changed:
        return None
    current = _read(change.path)
    if current != change.before:
        raise ClientConfigError(
            f"{change.path} changed since it was read (another program wrote it); "
            "nothing was written. Run this again."
        )
    backup = None
    try:
        if change.before is not None:
            backup = _backup(change.path, stamp or time.strftime("%Y%m%dT%H%M%S"))
        _write(change.path, change.after)
    except OSError as exc:
        raise ClientConfigError(f"Cannot write {change.path}: {exc.strerror or exc}") from None
    return backup


def snippet(client_id: str, *, entry_name: str, server_id: str, url: str,
            command: str | None = None, platform: str = sys.platform) -> str:
    """The configuration to paste by hand: the servers object with our one entry."""
    target = client(client_id)
    entry = target.entry(url=url, server_id=server_id, command=command or default_command(),
                         windows=platform.startswith("win"))
    value: Any = {entry_name: entry}
    for key in reversed(target.servers_key):
        value = {key: value}
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
