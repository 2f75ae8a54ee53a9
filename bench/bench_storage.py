"""Storage benchmark: vault open/save cost against plain unencrypted JSON, keyring calls per start.

Each vault of n servers holds n realistic token entries (~2 KB: a JWT-shaped
access token, a refresh token, a client secret, a registration access token).
Baselines are measured in the same run on the same data:

* save: ``json.dumps`` + write + fsync of the whole document, unencrypted,
  against ``FileVault.put`` of one entry (lock, re-check, AES-GCM, temp
  file, fsync, rename, fsync of the folder);
* open: read + ``json.loads`` of that plain file, against a new FileVault
  opening the vault and reading one entry (one keyring read, decrypt, parse);
* keyring calls per start: counted with a counting in-memory keyring; the
  target is exactly one whatever the number of servers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Result
from mcp_auth_desktop.storage import FileVault, KeyringKeyProvider, open_storage
from mcp_auth_desktop.storage.paths import app_paths

TOPIC = "storage"
SIZES = (1, 100, 1000)


class CountingKeyring:
    """An in-memory keyring backend that counts calls (not registered with ``keyring``)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}
        self.calls: Counter[str] = Counter()

    def get_password(self, service: str, username: str) -> str | None:
        self.calls["get"] += 1
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls["set"] += 1
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls["delete"] += 1
        self.items.pop((service, username), None)


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(os.urandom(n)).decode().rstrip("=")


def token_entry(i: int) -> dict[str, Any]:
    header = _b64(27)
    payload = _b64(600)
    access = f"{header}.{payload}.{_b64(256)}"
    return {
        "access_token": access,
        "token_type": "Bearer",
        "refresh_token": _b64(300),
        "expires_at": 1_800_000_000.0 + i,
        "issued_at": 1_799_996_400.0 + i,
        "scope": ["mcp:tools", "mcp:resources", "offline_access"],
        "resource": f"https://mcp{i}.example.com/mcp",
        "client_id": f"client-{_b64(12)}",
        "client_secret": _b64(48),
        "registration_access_token": _b64(96),
    }


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def _plain_save(path: Path, doc: dict[str, Any]) -> None:
    data = json.dumps(doc).encode()
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _plain_open(path: Path) -> None:
    json.loads(path.read_bytes())


def _measure(n: int, root: Path) -> list[Result]:
    entries = {f"tokens/{i:04d}": token_entry(i) for i in range(n)}
    doc = {"entries": entries}
    repeat = 21 if n < 1000 else 9
    plain = root / f"plain-{n}.json"
    base_save = _median_ms(lambda: _plain_save(plain, doc), repeat)
    base_open = _median_ms(lambda: _plain_open(plain), repeat)

    ring = CountingKeyring()
    paths = app_paths(root / f"home-{n}")
    vault = FileVault(paths, KeyringKeyProvider(ring))
    vault.open_sync()
    asyncio.run(vault.put_many(entries))
    size_kb = paths.vault_file.stat().st_size / 1024
    first = next(iter(entries))
    fresh = token_entry(0)

    async def saves() -> float:
        samples = []
        for k in range(repeat):
            fresh["refresh_token"] = f"rotated-{k}-" + fresh["refresh_token"][12:]
            t0 = time.perf_counter()
            await vault.put(first, fresh)
            samples.append((time.perf_counter() - t0) * 1000)
        return statistics.median(samples)

    save_ms = asyncio.run(saves())

    def open_once() -> None:
        # What a start does: lock, read, one keyring read, decrypt, parse.
        FileVault(paths, KeyringKeyProvider(ring)).open_sync()

    open_ms = _median_ms(open_once, repeat)
    note = f"vault file {size_kb:.0f} KiB; plain JSON {plain.stat().st_size / 1024:.0f} KiB"
    return [
        # Two fsyncs (file and folder) against the baseline's one, plus lock and rename.
        Result(TOPIC, f"save one entry, {n} servers", save_ms, "ms", base_save,
               "json.dumps+write+fsync, unencrypted", target_ratio=5.0, note=note),
        # With one server the fixed cost (lock file, keyring thread) dwarfs a 2 KB
        # json.loads, so that row is reported without a target.
        Result(TOPIC, f"open, {n} servers", open_ms, "ms", base_open,
               "read+json.loads, unencrypted", target_ratio=6.0 if n > 1 else None,
               note="fixed cost: lock + keyring thread + header check" if n == 1 else ""),
    ]


def _keyring_calls(root: Path) -> list[Result]:
    saved = {k: os.environ.pop(k, None) for k in ("MCP_AUTH_DESKTOP_KEYRING", "MCP_AUTH_DESKTOP_PASSPHRASE")}
    try:
        home = root / "calls"
        ring = CountingKeyring()
        vault, _ = open_storage(home, keyring_backend=ring)
        first_start = ring.calls.total()
        asyncio.run(vault.put_many({f"tokens/{i:04d}": token_entry(i) for i in range(100)}))  # type: ignore[attr-defined]
        ring.calls.clear()
        again, _ = open_storage(home, keyring_backend=ring)

        async def read_all() -> None:
            for name in await again.names():
                await again.get(name)

        asyncio.run(read_all())
        per_start = ring.calls.total()
    finally:
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v
    return [
        Result(TOPIC, "keyring calls per start, 100 servers", per_start, "calls", 1.0,
               "target: one read", target_ratio=1.0,
               note=f"first start (new key, then read back): {first_start} calls"),
    ]


def run() -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o700)
        for n in SIZES:
            results += _measure(n, root)
        results += _keyring_calls(root)
    return results


if __name__ == "__main__":
    for r in run():
        print(f"{r.name:<40} {r.value:10.3f} {r.unit:<5} baseline {r.baseline:10.3f} ratio {r.ratio:.2f}")
