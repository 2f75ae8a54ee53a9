"""A persistent audit trail: one JSON line per security-relevant event.

Sign-ins, refreshes (and whether the refresh token rotated), failures,
revocations, removals and token copies are appended to ``audit.log`` in the
app's data folder, so a user can later see what happened to each sign-in.
The manager's events carry no secret by construction (core/state.py), and
free text is sanitised, so nothing here can leak a token. The file is 0600,
written with O_APPEND (one short line per write, so concurrent processes do
not interleave), and rotated at a size cap so it never grows without bound.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from mcp_auth_desktop.core.errors import sanitize_server_text
from mcp_auth_desktop.core.state import ManagerEvent

__all__ = ["AuditLog"]

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000
KEEP = 3


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return sanitize_server_text(value, 500)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


class AuditLog:
    """Appends events to ``path``; never raises into the caller (an audit failure is logged)."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._keep = keep
        self._failed = False

    def record(self, event: ManagerEvent) -> None:
        fields = _plain(event)
        assert isinstance(fields, dict)
        self._write({"event": type(event).__name__, **fields})

    def note(self, server_id: str, what: str) -> None:
        """An action the manager does not see, e.g. a token copied to the clipboard."""
        self._write({"event": "Note", "server_id": server_id, "at": time.time(),
                     "message": sanitize_server_text(what, 500)})

    def _write(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        try:
            self._rotate_if_needed()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
            self._failed = False
        except OSError as exc:
            if not self._failed:  # say it once, not on every event of a full disk
                log.warning("could not write the audit log %s: %s", self.path, exc.strerror)
            self._failed = True

    def _rotate_if_needed(self) -> None:
        try:
            if self.path.stat().st_size < self._max_bytes:
                return
        except FileNotFoundError:
            return
        for n in range(self._keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))

    def read(self) -> list[dict[str, Any]]:
        """The current file's entries, oldest first (for tests and a future viewer)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
