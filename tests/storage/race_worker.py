"""One of several processes hammering a shared vault (tests/storage/test_concurrency.py).

``python -m tests.storage.race_worker HOME KEY WID OPS SEED LOG OUT``: KEY is a hex
key, or ``open_storage`` to open the vault as the app does (OS keyring). Waits for
HOME/go, then does OPS random operations: rotate a shared refresh token, save or
remove its own servers, bump a shared counter. Every refresh token it *sends*
is appended to LOG; what it believes it left behind is written to OUT as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import sys
import time
from pathlib import Path

from mcp_auth_desktop.storage import FileVault, MemoryKeyProvider, SecretVault, open_storage
from mcp_auth_desktop.storage.paths import app_paths

SHARED = ("tokens/shared-0", "tokens/shared-1", "tokens/shared-2")


def send(log: Path, line: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())  # one small O_APPEND write: atomic
    finally:
        os.close(fd)


async def refresh(vault: SecretVault, name: str, wid: int, log: Path, rng: random.Random) -> bool:
    """The manager's pattern: the RT we hold may be stale; re-read under the lock."""
    held = await vault.get(name)
    assert held is not None
    await asyncio.sleep(rng.uniform(0, 0.003))  # others may rotate it meanwhile
    async with vault.lock(name):
        current = await vault.get(name)
        assert current is not None
        if current["refresh_token"] != held["refresh_token"]:
            return False  # someone refreshed first: use theirs, send nothing
        new = f"rt-{wid}-{secrets.token_hex(6)}"
        send(log, f"{name} {held['refresh_token']} {new}")
        await asyncio.sleep(rng.uniform(0, 0.002))  # the token endpoint
        await vault.put(name, {**current, "refresh_token": new, "access_token": "at-" + new})
        return True


async def run(vault: SecretVault, wid: int, ops: int, seed: int, log: Path) -> dict[str, object]:
    rng = random.Random(seed)
    own: set[str] = set()
    bumps = sent = 0
    deadline = time.monotonic() + 60
    for i in range(ops):
        if time.monotonic() > deadline:
            break
        r = rng.random()
        if r < 0.4:
            sent += await refresh(vault, rng.choice(SHARED), wid, log, rng)
        elif r < 0.65:
            name = f"own/{wid}/{i}"
            await vault.put(name, {"refresh_token": f"own-{wid}-{i}", "pad": "p" * 1800})
            own.add(name)
        elif r < 0.75 and own:
            name = rng.choice(sorted(own))
            await vault.delete(name)
            own.discard(name)
        elif r < 0.78 and own:
            removed = await vault.delete_prefix(f"own/{wid}/")
            assert removed == len(own), (removed, len(own))
            own.clear()
        else:
            async with vault.lock("counter"):
                cur = await vault.get("counter")
                n = cur["n"] if cur else 0
                await vault.put("counter", {"n": n + 1})
            bumps += 1
    return {"own": sorted(own), "bumps": bumps, "sent": sent}


def main(argv: list[str]) -> int:
    home, key, wid, ops, seed = Path(argv[0]), argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    log, out = Path(argv[5]), Path(argv[6])
    vault: SecretVault
    if key == "open_storage":
        vault, _ = open_storage(home)
    else:
        fv = FileVault(app_paths(home), MemoryKeyProvider(bytes.fromhex(key)))
        fv.open_sync()
        vault = fv
    stop = time.monotonic() + 30
    while not (home / "go").exists():
        if time.monotonic() > stop:
            return 3
        time.sleep(0.005)
    result = asyncio.run(run(vault, wid, ops, seed, log))
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
