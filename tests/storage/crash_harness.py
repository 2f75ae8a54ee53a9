"""Crash harness: a writer is SIGKILLed at random moments; the vault must stay whole.

Run as ``python -m tests.storage.crash_harness HOME KEY_HEX KILLS SEED`` from the
repository root (tests/storage/test_crash.py does). The harness is its own
single-threaded process so ``os.fork`` is safe: each round forks a child that
rewrites the vault in a loop through the real FileVault path, kills it after a
random 0-20 ms, then opens the vault as a new start would and checks that it
holds one complete version: every static entry intact, the counter entry's blob
consistent with its sequence number, and the number never going backwards.
Prints one JSON object with the tallies.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

from mcp_auth_desktop.storage import FileVault, MemoryKeyProvider
from mcp_auth_desktop.storage.paths import app_paths

STATIC = 30


def blob(k: int) -> str:
    # The size changes with k, so a file cut short or mixed from two writes cannot pass.
    return f"{k}:" + "abcdefghij"[k % 10] * (200 + (k * 37) % 900)


def static_value(i: int) -> dict[str, object]:
    return {"access_token": f"at-{i}-" + "x" * 1500, "refresh_token": f"rt-{i}", "i": i}


async def writer(vault: FileVault) -> None:
    cur = await vault.get("counter")
    k = int(cur["k"]) if cur else 0
    while True:
        k += 1
        await vault.put("counter", {"k": k, "blob": blob(k)})


def child(home: Path, key: bytes) -> None:
    try:
        v = FileVault(app_paths(home), MemoryKeyProvider(key))
        asyncio.run(writer(v))
    finally:
        os._exit(0)


async def inspect(home: Path, key: bytes) -> tuple[int, list[str]]:
    v = FileVault(app_paths(home), MemoryKeyProvider(key))
    problems: list[str] = []
    v.open_sync()
    if v.corruption is not None:
        return -1, [f"corrupt: {v.corruption.message}"]
    names = await v.names()
    if len(names) != STATIC + 1:
        problems.append(f"{len(names)} entries")
    for i in range(STATIC):
        if await v.get(f"static/{i:02d}") != static_value(i):
            problems.append(f"static/{i:02d} changed")
    cur = await v.get("counter")
    if cur is None:
        return -1, [*problems, "counter missing"]
    k = int(cur["k"])
    if cur.get("blob") != blob(k):
        problems.append(f"counter {k} has a mismatched blob")
    return k, problems


def main(argv: list[str]) -> int:
    home, key, kills, seed = Path(argv[0]), bytes.fromhex(argv[1]), int(argv[2]), int(argv[3])
    rng = random.Random(seed)
    paths = app_paths(home)
    paths.ensure()

    async def setup() -> None:
        v = FileVault(paths, MemoryKeyProvider(key))
        v.open_sync()
        for i in range(STATIC):
            await v.put(f"static/{i:02d}", static_value(i))
        await v.put("counter", {"k": 0, "blob": blob(0)})

    asyncio.run(setup())
    tally: dict[str, object] = {"kills": 0, "progressed": 0, "temps_left": 0, "problems": []}
    problems: list[str] = []
    last = 0
    deadline = time.monotonic() + 90
    for _ in range(kills):
        if time.monotonic() > deadline:
            problems.append("time budget exhausted")
            break
        pid = os.fork()
        if pid == 0:
            child(home, key)
        time.sleep(rng.uniform(0.0, 0.02))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        tally["kills"] = int(str(tally["kills"])) + 1
        tally["temps_left"] = int(str(tally["temps_left"])) + sum(
            1 for n in os.listdir(home) if ".tmp-" in n
        )
        k, found = asyncio.run(inspect(home, key))
        problems += found
        if k < last:
            problems.append(f"counter went back from {last} to {k}")
        if k > last:
            tally["progressed"] = int(str(tally["progressed"])) + 1
        last = max(last, k)
        if problems:
            break

    async def final_write() -> None:
        v = FileVault(paths, MemoryKeyProvider(key))
        v.open_sync()
        await v.put("counter", {"k": last + 1, "blob": blob(last + 1)})

    asyncio.run(final_write())
    tally["temps_after_next_write"] = sum(1 for n in os.listdir(home) if ".tmp-" in n)
    tally["corrupt_files"] = sum(1 for n in os.listdir(home) if ".corrupt-" in n)
    tally["last_k"] = last
    tally["problems"] = problems
    print(json.dumps(tally))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
