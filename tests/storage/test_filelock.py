"""FileLock: bounded waits, cancellation, and no stale lock after a holder dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mcp_auth_desktop.core.errors import StorageError
from mcp_auth_desktop.storage.filelock import FileLock


async def test_busy_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    other = FileLock(path, timeout=5)
    with other.hold_sync():  # as another process would (its own open file)
        with pytest.raises(StorageError) as info:
            await FileLock(path, timeout=0.1, what="secret vault").acquire()
    assert "secret vault is busy" in str(info.value)
    async with FileLock(path, timeout=1):  # free again afterwards
        pass


async def test_cancelled_waiter_leaves_the_lock_usable(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    release = threading.Event()
    held = threading.Event()

    def holder() -> None:
        with FileLock(path, timeout=5).hold_sync():
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    fds_before = len(os.listdir("/proc/self/fd"))
    waiter = asyncio.create_task(FileLock(path, timeout=30).acquire())
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert len(os.listdir("/proc/self/fd")) == fds_before  # no leaked descriptor
    release.set()
    t.join(5)
    async with FileLock(path, timeout=1):
        pass


async def test_tasks_queue_in_process(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    inside = 0
    peak = 0

    async def worker() -> None:
        nonlocal inside, peak
        async with FileLock(path, timeout=10):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.002)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(20)))
    assert peak == 1


def test_lock_of_a_killed_process_is_released(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from mcp_auth_desktop.storage.filelock import FileLock\n"
        "with FileLock(Path(sys.argv[1])).hold_sync():\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(StorageError):
            with FileLock(path, timeout=0.1).hold_sync():
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with FileLock(path, timeout=5).hold_sync():  # the kernel dropped the dead holder's lock
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
