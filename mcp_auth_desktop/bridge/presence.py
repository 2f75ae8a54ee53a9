"""Which bridges are connected: one locked registration file per running bridge.

A bridge writes ``<data>/bridges/<server_id>.<pid>.<random>.bridge`` and holds
an OS lock on it for as long as it runs (flock / msvcrt, dropped by the
kernel when the process dies, however it dies). The app counts the files
whose lock is held; a file it can lock belongs to a dead bridge and is
deleted. The file is created under a temporary name, locked, then renamed,
so a counter never sees a registered file that is not yet locked.
The file holds no secret: the server id, the pid and the client's name.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from pathlib import Path

from mcp_auth_desktop.storage.filelock import _try_lock, _unlock
from mcp_auth_desktop.storage.paths import app_paths, ensure_private_dir

__all__ = ["BridgePresence", "bridges_dir", "count_bridges"]

log = logging.getLogger(__name__)

_SUFFIX = ".bridge"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


def bridges_dir(data_dir: Path | None = None) -> Path:
    return (data_dir if data_dir is not None else app_paths().data_dir) / "bridges"


class BridgePresence:
    """This bridge's registration; :meth:`register` then :meth:`unregister` (or just exit)."""

    def __init__(self, server_id: str, *, directory: Path | None = None) -> None:
        self.server_id = server_id
        self._dir = directory if directory is not None else bridges_dir()
        self._fd: int | None = None
        self.path: Path | None = None

    def register(self, client_name: str = "") -> None:
        import secrets  # here, not at the top: the app's window counts bridges, never registers

        ensure_private_dir(self._dir)
        name = f"{self.server_id}.{os.getpid()}.{secrets.token_hex(4)}"
        final = self._dir / (name + _SUFFIX)
        # Windows cannot rename an open file: there the file is made under its final name
        # (a counter probing in that instant sees it unlocked and deletes it; rare, harmless).
        tmp = final if os.name == "nt" else self._dir / (name + ".tmp")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o600)
        if not _try_lock(fd):  # a fresh random name: nobody else can hold it
            os.close(fd)
            raise OSError("could not lock the bridge registration file")
        info = {"server_id": self.server_id, "pid": os.getpid(), "started_at": time.time(),
                "client": client_name[:200]}
        # Lock byte 0 only (Windows locks ranges); the JSON goes after it.
        os.lseek(fd, 1, os.SEEK_SET)
        os.write(fd, json.dumps(info).encode())
        if tmp != final:
            os.replace(tmp, final)
        self._fd, self.path = fd, final

    def set_client(self, client_name: str) -> None:
        """Record the client's name (from its ``initialize``) for the app's tooltip."""
        if self._fd is None:
            return
        info = {"server_id": self.server_id, "pid": os.getpid(), "started_at": time.time(),
                "client": client_name[:200]}
        try:
            os.ftruncate(self._fd, 1)
            os.lseek(self._fd, 1, os.SEEK_SET)
            os.write(self._fd, json.dumps(info).encode())
        except OSError as exc:
            log.debug("could not update the bridge registration: %s", exc.strerror)

    def unregister(self) -> None:
        fd, path = self._fd, self.path
        self._fd = self.path = None
        if fd is None:
            return
        try:
            if path is not None:
                path.unlink(missing_ok=True)
            _unlock(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def count_bridges(directory: Path | None = None) -> Counter[str]:
    """Connected bridges per server id; registrations of dead bridges are deleted."""
    folder = directory if directory is not None else bridges_dir()
    counts: Counter[str] = Counter()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return counts
    for entry in entries:
        if not entry.name.endswith(_SUFFIX) or not entry.is_file(follow_symlinks=False):
            continue
        server_id = entry.name.split(".", 1)[0]
        try:
            fd = os.open(entry.path, os.O_RDWR | _O_NOFOLLOW | _O_BINARY)
        except OSError:
            continue  # gone meanwhile (its bridge exited)
        try:
            if _try_lock(fd):
                # Nobody holds it: its bridge died without cleaning up.
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
                _unlock(fd)
            else:
                counts[server_id] += 1
        finally:
            os.close(fd)
    return counts
