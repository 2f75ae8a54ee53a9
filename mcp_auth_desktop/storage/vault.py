"""The encrypted secret vault: one AES-256-GCM file shared by every process.

File layout::

    b"MCPAUTHV"  | u32 big-endian header length | header (JSON, UTF-8) | ciphertext

The header names the format version, where the key comes from
(``key_source`` plus ``key_id`` or the scrypt ``kdf``), a key check value
and the nonce of this write. Everything before the ciphertext is the AEAD's
associated data, so a changed header fails decryption like a changed body.
The plaintext is ``{"entries": {name: object}}``.

Every write takes the vault lock, re-reads the file, applies one change and
replaces the file atomically. The file itself (its cached reads, the keys that
open it, writing, moving aside, deleting) is :mod:`.vault_file`'s; this module is
the store: named entries, the locks, and what a damaged file means for the user.

A file that cannot be trusted (truncated, bad tag, wrong or lost key, bad
JSON, a format from the future) is moved aside as ``.corrupt-<timestamp>``
under the lock and a fresh vault starts; only the secrets are lost, so the
affected servers need to sign in again.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

from mcp_auth_desktop.core.errors import VaultCorruptError

from .atomic import moved_aside_error, remove_stale_temps
from .base import JsonObject, StorageLocation
from .entries import normalise as _normalise
from .entries import validate_name
from .filelock import FileLock
from .keys import KeyProvider
from .paths import AppPaths
from .vault_file import VaultFile, read_header
from .vault_format import FORMAT_VERSION, MAGIC, _Corrupt

__all__ = ["FileVault", "FORMAT_VERSION", "MAGIC", "read_header", "validate_name"]


#: Applies one change to a copy of the entries; returns whether anything changed.
_Change = Callable[[dict[str, JsonObject]], bool]


class FileVault:
    """:class:`~mcp_auth_desktop.storage.base.SecretVault` backed by an encrypted file."""

    def __init__(
        self,
        paths: AppPaths,
        provider: KeyProvider,
        *,
        lock_timeout: float = 30.0,
        entry_lock_timeout: float = 120.0,
    ) -> None:
        self._paths = paths
        self._path = paths.vault_file
        self._provider = provider
        self._lock_timeout = lock_timeout
        self._entry_lock_timeout = entry_lock_timeout
        self._file = VaultFile(self._path, provider)
        #: The last corruption found and handled (file moved aside), for the UI to show.
        self.corruption: VaultCorruptError | None = None

    def __repr__(self) -> str:
        return f"FileVault(path={str(self._path)!r}, key_source={self._provider.key_source!r})"

    # -- public API (SecretVault) -------------------------------------------

    @property
    def location(self) -> StorageLocation:
        return StorageLocation(
            key_source=self._provider.key_source,
            backend=self._provider.backend,
            vault_path=str(self._path),
        )

    @property
    def path(self) -> Path:
        return self._path

    async def get(self, name: str) -> JsonObject | None:
        validate_name(name)
        entries = await self._read()
        value = entries.get(name)
        return copy.deepcopy(value) if value is not None else None

    async def names(self) -> list[str]:
        return sorted(await self._read())

    async def put(self, name: str, value: JsonObject) -> None:
        validate_name(name)
        clean = _normalise(value)

        def change(entries: dict[str, JsonObject]) -> bool:
            entries[name] = clean
            return True

        await self._modify(change)

    async def put_many(self, items: Mapping[str, JsonObject]) -> None:
        """Set several entries in one locked write (imports, benchmarks)."""
        clean = {validate_name(n): _normalise(v) for n, v in items.items()}

        def change(entries: dict[str, JsonObject]) -> bool:
            entries.update(clean)
            return bool(clean)

        await self._modify(change)

    async def delete(self, name: str) -> None:
        validate_name(name)

        def change(entries: dict[str, JsonObject]) -> bool:
            return entries.pop(name, None) is not None

        await self._modify(change)

    async def delete_prefix(self, prefix: str) -> int:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("delete_prefix needs a non-empty prefix")
        removed = 0

        def change(entries: dict[str, JsonObject]) -> bool:
            nonlocal removed
            doomed = [n for n in entries if n.startswith(prefix)]
            for n in doomed:
                del entries[n]
            removed = len(doomed)
            return bool(doomed)

        await self._modify(change)
        return removed

    def lock(self, name: str) -> FileLock:
        validate_name(name)
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]
        return FileLock(
            self._paths.entry_lock_dir / f"{digest}.lock",
            timeout=self._entry_lock_timeout,
            what="server's token entry",
        )

    async def forget_everything(self) -> None:
        async with self._vault_lock():
            await asyncio.to_thread(self._file.delete)

    async def aclose(self) -> None:
        self._file.forget_cache()

    # -- synchronous entry points (open_storage, tools) ------------------------

    def open_sync(self) -> None:
        """Open or create the vault now, so a missing key or passphrase shows at start.

        A damaged vault is moved aside here and :attr:`corruption` set; this
        does not raise for it so the app can start and say what happened.
        """
        self._paths.ensure()
        with self._vault_lock().hold_sync():
            try:
                self._file.load()
            except _Corrupt as exc:
                self._quarantine_sync(exc)
            if not self._file.exists():
                self._file.write({})

    # -- internals -------------------------------------------------------------

    def _vault_lock(self) -> FileLock:
        return FileLock(self._paths.vault_lock, timeout=self._lock_timeout, what="secret vault")

    async def _read(self) -> dict[str, JsonObject]:
        try:
            return await asyncio.to_thread(self._file.load)
        except _Corrupt:
            pass
        # Decide about corruption under the lock: a writer may have replaced the file since.
        async with self._vault_lock():
            try:
                return await asyncio.to_thread(self._file.load)
            except _Corrupt as exc:
                raise await asyncio.to_thread(self._quarantine_sync, exc) from None

    async def _modify(self, change: _Change) -> None:
        async with self._vault_lock():
            await asyncio.to_thread(self._modify_sync, change)

    def _modify_sync(self, change: _Change) -> None:
        try:
            current = self._file.load()
        except _Corrupt as exc:
            # The caller's change (often fresh tokens) still deserves to be kept.
            self._quarantine_sync(exc)
            current = {}
        entries = dict(current)
        if change(entries):
            remove_stale_temps(self._path)
            self._file.write(entries)

    def _quarantine_sync(self, exc: _Corrupt) -> VaultCorruptError:
        """Move the damaged file aside (caller holds the vault lock)."""
        self.corruption = moved_aside_error(
            "secret vault", exc.reason, self._file.move_aside(),
            "a new, empty vault is used; servers need to sign in again (your server list is kept).",
        )
        return self.corruption

