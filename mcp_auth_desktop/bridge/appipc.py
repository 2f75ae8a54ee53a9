"""The app's single-instance channel, from outside Qt.

The running app listens on a QLocalServer named by :func:`instance_key` (a
Unix socket in Qt's temp folder on POSIX, a named pipe on Windows). A second
launch writes ``show``; a bridge writes ``signin SERVER_ID [SCOPE ...]`` to
ask the app to run the browser sign-in (or step-up) for that server. One
command per line, ASCII; the app ignores lines it does not understand.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import re
import socket

__all__ = ["instance_key", "socket_path", "ask_app_to_sign_in", "parse_command", "SIGN_IN"]

log = logging.getLogger(__name__)

SIGN_IN = "signin"
#: Server ids and scopes travel as plain tokens; anything else is not sent or accepted.
_TOKEN = re.compile(r"[\x21-\x7e]{1,200}")
_MAX_SCOPES = 32


def instance_key(home: str | None = None) -> str:
    """Socket name for this user and ``home`` (default: $MCP_AUTH_DESKTOP_HOME or the default)."""
    home = home if home is not None else os.environ.get("MCP_AUTH_DESKTOP_HOME", "<default>")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{user}\x1f{os.path.abspath(home) if home != '<default>' else home}".encode())
    return f"mcp-auth-desktop-{digest.hexdigest()[:20]}"


def socket_path(key: str | None = None) -> str:
    """Where QLocalServer puts the socket: QDir::tempPath() ($TMPDIR or /tmp) on POSIX."""
    key = key or instance_key()
    if os.name == "nt":  # pragma: no cover - Windows only
        return rf"\\.\pipe\{key}"
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", key)  # noqa: S108 - Qt's own rule


def _line(server_id: str, scopes: tuple[str, ...]) -> bytes | None:
    parts = [SIGN_IN, server_id, *scopes[:_MAX_SCOPES]]
    if not all(_TOKEN.fullmatch(p) for p in parts):
        return None
    return (" ".join(parts) + "\n").encode("ascii")


def ask_app_to_sign_in(server_id: str, scopes: tuple[str, ...] = (), *, timeout: float = 1.0) -> bool:
    """True when a running app took the request (it then opens the sign-in itself)."""
    line = _line(server_id, scopes)
    if line is None:
        return False
    path = socket_path()
    try:
        if os.name == "nt":  # pragma: no cover - Windows only
            with open(path, "r+b", buffering=0) as pipe:
                pipe.write(line)
            return True
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(line)
        return True
    except OSError as exc:
        log.debug("no running app to ask (%s)", type(exc).__name__)
        return False


def parse_command(line: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(``"show"``, "", ()) or (``"signin"``, server_id, scopes); None for anything else."""
    parts = line.strip().split()
    if parts == ["show"]:
        return ("show", "", ())
    if len(parts) >= 2 and parts[0] == SIGN_IN and len(parts) <= 2 + _MAX_SCOPES:
        if all(_TOKEN.fullmatch(p) for p in parts):
            return (SIGN_IN, parts[1], tuple(parts[2:]))
    return None
