"""Five processes on one vault: no lost update, no refresh token sent twice."""
# ruff: noqa: ASYNC220, ASYNC240, ASYNC251  (the test drives real processes; blocking is intended)

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_auth_desktop.storage import FileVault, MemoryKeyProvider, SecretVault, open_storage
from mcp_auth_desktop.storage.paths import app_paths

from .race_worker import SHARED

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 5
OPS = 60


async def _race(home: Path, key_arg: str, vault: SecretVault, tmp_path: Path) -> None:
    for i, name in enumerate(SHARED):
        await vault.put(name, {"refresh_token": f"rt-init-{i}", "access_token": "at"})
    log = tmp_path / "sent.log"
    procs = []
    for wid in range(WORKERS):
        out = tmp_path / f"out-{wid}.json"
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "tests.storage.race_worker", str(home), key_arg,
                     str(wid), str(OPS), str(1000 + wid), str(log), str(out)],
                    cwd=ROOT,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                out,
            )
        )
    time.sleep(0.05)
    (home / "go").write_text("go")
    results = []
    try:
        for proc, out in procs:
            _, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err[-3000:]
            results.append(json.loads(out.read_text()))
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # No refresh token was ever sent twice.
    lines = [ln.split() for ln in log.read_text().splitlines()] if log.exists() else []
    sent = [old for _, old, _ in lines]
    assert len(sent) == len(set(sent)), "a refresh token was sent twice"
    assert len(lines) == sum(r["sent"] for r in results)
    assert len(lines) > WORKERS  # the race really happened
    # Each shared entry's rotations form one unbroken chain ending at the stored value.
    for i, name in enumerate(SHARED):
        chain = [(old, new) for n, old, new in lines if n == name]
        current = f"rt-init-{i}"
        for old, new in chain:
            assert old == current, f"{name}: rotation from a stale token"
            current = new
        stored = await vault.get(name)
        assert stored is not None and stored["refresh_token"] == current
    # No lost update: every increment and every surviving entry is there.
    counter = await vault.get("counter")
    assert counter is not None and counter["n"] == sum(r["bumps"] for r in results)
    expected_own = sorted(n for r in results for n in r["own"])
    assert sorted(n for n in await vault.names() if n.startswith("own/")) == expected_own
    assert getattr(vault, "corruption", None) is None


@pytest.mark.slow
async def test_five_processes_memory_key(home: Path, tmp_path: Path) -> None:
    key = os.urandom(32)
    vault = FileVault(app_paths(home), MemoryKeyProvider(key))
    vault.open_sync()
    await _race(home, key.hex(), vault, tmp_path)


@pytest.mark.slow
@pytest.mark.keyring
async def test_five_processes_real_keyring(home: Path, tmp_path: Path) -> None:
    vault, _ = open_storage(home)
    assert vault.location.key_source == "keyring"
    try:
        await _race(home, "open_storage", vault, tmp_path)
    finally:
        await vault.forget_everything()
