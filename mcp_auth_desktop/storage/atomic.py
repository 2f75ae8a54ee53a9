"""Crash-safe file replacement and no-follow reads.

A write goes to a fresh temp file in the same folder (so ``os.replace`` is a
rename within one filesystem), is fsynced, replaces the target, and then the
folder is fsynced so the rename itself survives a power cut. A reader thus
sees the old file or the new one, never a mix. Temp files left by a writer
killed mid-way are removed by the next writer, under the same lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

from mcp_auth_desktop.core.errors import StorageWriteError, VaultCorruptError

from .paths import check_private_file

__all__ = [
    "atomic_write",
    "read_private",
    "quarantine",
    "moved_aside_error",
    "remove_stale_temps",
    "TEMP_MARK",
]

log = logging.getLogger(__name__)

TEMP_MARK = ".tmp-"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder for fsync; NTFS journals the rename.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (mode 0600) so a crash leaves old or new.

    Raises :class:`StorageWriteError` (old content intact) on any OS failure.
    """
    import secrets  # here, not at the top (start-up cost): reading the settings never needs it

    path = Path(path)
    check_private_file(path)  # refuses a symlink or foreign file at the target
    tmp = path.with_name(f".{path.name}{TEMP_MARK}{secrets.token_hex(8)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise StorageWriteError(f"Cannot write in {path.parent}: {exc.strerror}") from None
    try:
        try:
            if os.name == "posix":
                os.fchmod(fd, 0o600)  # the umask may have removed bits, never added: be exact
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageWriteError(
            f"Could not save {path.name} ({exc.strerror}); the previous version is intact."
        ) from None
    try:
        _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageWriteError(
            f"Saved {path.name} but could not flush its folder ({exc.strerror})."
        ) from None


def read_private(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist. Never follows a symlink."""
    path = Path(path)
    if not check_private_file(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageWriteError(f"Cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        return f.read()


def quarantine(path: Path) -> Path:
    """Move a damaged file aside as ``<name>.corrupt-<timestamp>`` and return the new path."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    try:
        os.replace(path, target)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageWriteError(
            f"{path} is damaged and could not be moved aside ({exc.strerror}); move it yourself."
        ) from None
    return target


def moved_aside_error(what: str, reason: str, moved: Path, instead: str) -> VaultCorruptError:
    """What the user is told (and the log says, once) after :func:`quarantine` moved ``what``."""
    err = VaultCorruptError(
        f"The {what} could not be read: {reason}. It was moved to {moved} and {instead}",
        moved_to=str(moved),
    )
    log.warning("%s", err.message)
    return err


def remove_stale_temps(path: Path) -> int:
    """Delete temp files of ``path`` left by a killed writer. Call under the write lock."""
    removed = 0
    prefix = f".{path.name}{TEMP_MARK}"
    try:
        names = os.listdir(path.parent)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix):
            with contextlib.suppress(OSError):
                os.unlink(path.parent / name)
                removed += 1
    return removed
