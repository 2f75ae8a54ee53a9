"""A cross-process lock that also serialises tasks within one process.

The OS lock is ``fcntl.flock`` (POSIX) or ``msvcrt.locking`` (Windows) on a
small lock file that is never deleted (deleting lock files lets two holders
lock two different inodes). The kernel drops the lock when its holder dies,
so a crash never leaves a stale lock. Acquisition polls with a short,
growing sleep instead of blocking a thread, so it can be cancelled and
bounded by a timeout. Two tasks of one process first queue on an
``asyncio.Lock`` so they do not spin against each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from mcp_auth_desktop.core.errors import StorageError, StorageWriteError

from .paths import ensure_private_dir

__all__ = ["FileLock", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 30.0
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

if os.name == "posix":
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

else:  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


_task_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _task_lock(key: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    per_loop = _task_locks.setdefault(loop, {})
    lock = per_loop.get(key)
    if lock is None:
        lock = per_loop[key] = asyncio.Lock()
    return lock


class FileLock:
    """``async with FileLock(path):`` holds the lock; not re-entrant."""

    def __init__(self, path: Path, *, timeout: float = DEFAULT_TIMEOUT, what: str = "storage") -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.what = what
        self._fd: int | None = None
        self._task_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"FileLock({str(self.path)!r}, held={self._fd is not None})"

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | _O_NOFOLLOW
        try:
            try:
                return os.open(self.path, flags, 0o600)
            except FileNotFoundError:
                ensure_private_dir(self.path.parent)  # e.g. the per-entry lock folder
                return os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise StorageWriteError(f"Cannot open lock file {self.path}: {exc.strerror}") from None

    def _busy(self) -> StorageError:
        return StorageError(
            f"The {self.what} is busy: another MCP Auth Desktop process has held {self.path} "
            f"for more than {self.timeout:g} s. Try again; if it persists, close other copies "
            f"of MCP Auth Desktop and mcp-auth."
        )

    def _waits(self, deadline: float) -> Iterator[float]:
        """How long to sleep before each next try (doubling to 50 ms); busy after ``deadline``."""
        delay = 0.001
        while True:
            if time.monotonic() >= deadline:
                raise self._busy()
            yield delay
            delay = min(delay * 2, 0.05)

    async def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        task_lock = _task_lock(str(self.path))
        try:
            await asyncio.wait_for(task_lock.acquire(), self.timeout)
        except TimeoutError:
            raise self._busy() from None
        try:
            fd = self._open()
            try:
                waits = self._waits(deadline)
                while not _try_lock(fd):
                    wait = next(waits)  # raises busy once the deadline has passed
                    await asyncio.sleep(wait)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            task_lock.release()
            raise
        self._fd = fd
        self._task_lock = task_lock

    def release(self) -> None:
        fd, task_lock = self._fd, self._task_lock
        self._fd = self._task_lock = None
        if fd is not None:
            try:
                _unlock(fd)
            finally:
                os.close(fd)
        if task_lock is not None:
            task_lock.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    @contextlib.contextmanager
    def hold_sync(self) -> Iterator[None]:
        """Blocking acquisition for code without an event loop (tests, tools)."""
        deadline = time.monotonic() + self.timeout
        fd = self._open()
        try:
            waits = self._waits(deadline)
            while not _try_lock(fd):
                time.sleep(next(waits))
            try:
                yield
            finally:
                _unlock(fd)
        finally:
            os.close(fd)
