"""The encrypted secret vault: one AES-256-GCM file shared by every process.

File layout::

    b"MCPAUTHV"  | u32 big-endian header length | header (JSON, UTF-8) | ciphertext

The header names the format version, where the key comes from
(``key_source`` plus ``key_id`` or the scrypt ``kdf``), a key check value
and the nonce of this write. Everything before the ciphertext is the AEAD's
associated data, so a changed header fails decryption like a changed body.
The plaintext is ``{"entries": {name: object}}``.

Every write takes the vault lock, re-reads the file, applies one change and
replaces the file atomically. Reads are cached: the nonce is fresh on every
write, so comparing the header's nonce with the cached one tells whether
another process wrote since, without trusting timestamps (which are coarse
on Linux and would miss two same-size writes in one tick).

A file that cannot be trusted (truncated, bad tag, wrong or lost key, bad
JSON, a format from the future) is moved aside as ``.corrupt-<timestamp>``
under the lock and a fresh vault starts; only the secrets are lost, so the
affected servers need to sign in again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcp_auth_desktop.core.errors import (
    KeyringUnavailableError,
    StorageError,
    StorageWriteError,
    VaultCorruptError,
    VaultLockedError,
)

from .atomic import atomic_write, quarantine, read_private, remove_stale_temps
from .base import JsonObject, StorageLocation
from .entries import normalise as _normalise
from .entries import validate_name
from .filelock import FileLock
from .keys import BadKeyHeaderError, KeyNotFoundError, KeyProvider
from .paths import AppPaths, check_private_file
from .vault_format import (
    _MAX_HEADER,
    _NONCE_BYTES,
    _PREFIX,
    FORMAT_VERSION,
    MAGIC,
    _b64,
    _Corrupt,
    _key_check,
    _split,
    _strict_loads,
    decrypt_entries,
)

__all__ = ["FileVault", "FORMAT_VERSION", "MAGIC", "read_header", "validate_name"]

log = logging.getLogger(__name__)

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


def _peek(path: Path) -> tuple[bytes, tuple[int, int, int]] | None:
    """The header's nonce and the file's (size, mtime, inode), reading only the header.

    The nonce is fresh on every write, so an unchanged nonce means our writers
    did not touch the file; the stat triple also catches most edits made in
    place by anything else. None when unreadable (the full read then decides).
    """
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        prefix = os.read(fd, _PREFIX.size)
        if len(prefix) != _PREFIX.size:
            return None
        magic, hlen = _PREFIX.unpack(prefix)
        if magic != MAGIC or hlen > _MAX_HEADER:
            return None
        hbytes = os.read(fd, hlen)
        header = _strict_loads(hbytes)
        if not isinstance(header, dict):
            return None
        nonce = _b64(header.get("nonce"), _NONCE_BYTES, "nonce")
        return nonce, (st.st_size, st.st_mtime_ns, st.st_ino)
    except (OSError, ValueError, UnicodeDecodeError, _Corrupt):
        return None
    finally:
        os.close(fd)


def read_header(path: Path) -> JsonObject | None:
    """The header of the vault at ``path``; None when absent or unreadable."""
    try:
        raw = read_private(path)
    except StorageError:
        return None
    if raw is None:
        return None
    try:
        return _split(raw)[0]
    except _Corrupt:
        return None


#: Applies one change to a copy of the entries; returns whether anything changed.
_Change = Callable[[dict[str, JsonObject]], bool]


@dataclass
class _State:
    nonce: bytes
    header: JsonObject
    key: bytes
    entries: dict[str, JsonObject]
    stat: tuple[int, int, int]


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
        self._mu = threading.Lock()  # guards the cache between worker threads
        self._state: _State | None = None
        self._keys: dict[tuple[str, str], bytes] = {}
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
            await asyncio.to_thread(self._forget_sync)

    async def aclose(self) -> None:
        with self._mu:
            self._state = None
            self._keys.clear()

    # -- synchronous entry points (open_storage, tools) ------------------------

    def open_sync(self) -> None:
        """Open or create the vault now, so a missing key or passphrase shows at start.

        A damaged vault is moved aside here and :attr:`corruption` set; this
        does not raise for it so the app can start and say what happened.
        """
        self._paths.ensure()
        with self._vault_lock().hold_sync():
            try:
                self._load_sync()
            except _Corrupt as exc:
                self._quarantine_sync(exc)
            if self._state is None:
                self._write_sync({})

    # -- internals -------------------------------------------------------------

    def _vault_lock(self) -> FileLock:
        return FileLock(self._paths.vault_lock, timeout=self._lock_timeout, what="secret vault")

    async def _read(self) -> dict[str, JsonObject]:
        try:
            return await asyncio.to_thread(self._load_sync)
        except _Corrupt:
            pass
        # Decide about corruption under the lock: a writer may have replaced the file since.
        async with self._vault_lock():
            try:
                return await asyncio.to_thread(self._load_sync)
            except _Corrupt as exc:
                raise await asyncio.to_thread(self._quarantine_sync, exc) from None

    async def _modify(self, change: _Change) -> None:
        async with self._vault_lock():
            await asyncio.to_thread(self._modify_sync, change)

    def _modify_sync(self, change: _Change) -> None:
        try:
            current = self._load_sync()
        except _Corrupt as exc:
            # The caller's change (often fresh tokens) still deserves to be kept.
            self._quarantine_sync(exc)
            current = {}
        entries = dict(current)
        if change(entries):
            remove_stale_temps(self._path)
            self._write_sync(entries)

    def _key_for(self, header: Mapping[str, Any]) -> bytes:
        source = header["key_source"]
        if source != self._provider.key_source:
            raise VaultLockedError(
                f"The secret vault {self._path} is now protected by a {source} key; restart "
                f"MCP Auth Desktop to open it."
            )
        ref = (str(header.get("key_id")), json.dumps(header.get("kdf"), sort_keys=True))
        key = self._keys.get(ref)
        if key is None:
            try:
                key = self._provider.load_key(header)
            except KeyNotFoundError as exc:
                raise _Corrupt(exc.message) from None
            except BadKeyHeaderError as exc:
                raise _Corrupt(exc.message) from None
            if not hmac.compare_digest(_key_check(key), str(header.get("key_check"))):
                self._provider.wrong_key()
                if source == "passphrase":
                    raise VaultLockedError(
                        "That passphrase does not open the secret vault. Try again."
                    )
                raise _Corrupt("its key does not match")
            self._keys[ref] = key
        return key

    def _load_sync(self) -> dict[str, JsonObject]:
        """Current entries ({} when there is no file); raises _Corrupt."""
        with self._mu:
            state = self._state
            if state is not None and _peek(self._path) == (state.nonce, state.stat):
                return state.entries
            check_private_file(self._path)
            try:
                fd = os.open(self._path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
            except FileNotFoundError:
                self._state = None
                return {}
            except OSError as exc:
                raise StorageWriteError(f"Cannot read {self._path}: {exc.strerror}") from None
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(f.fileno())
                raw = f.read()
            sig = (st.st_size, st.st_mtime_ns, st.st_ino)
            header, aad, ciphertext = _split(raw)
            nonce = _b64(header.get("nonce"), _NONCE_BYTES, "nonce")
            key = self._key_for(header)
            entries = decrypt_entries(key, nonce, aad, ciphertext)
            self._state = _State(nonce=nonce, header=header, key=key, entries=entries, stat=sig)
            return entries

    def _write_sync(self, entries: dict[str, JsonObject]) -> None:
        with self._mu:
            state = self._state
            if state is not None:
                key = state.key
                key_fields: JsonObject = {
                    k: state.header[k] for k in ("key_source", "key_id", "kdf") if k in state.header
                }
            else:
                # No vault (first start, forgotten, or moved aside): always a new key,
                # never one that another copy of a deleted vault may still be using.
                key, fields = self._provider.new_key()
                key_fields = {"key_source": self._provider.key_source, **fields}
                ref = (str(fields.get("key_id")), json.dumps(fields.get("kdf"), sort_keys=True))
                self._keys[ref] = key
            nonce = os.urandom(_NONCE_BYTES)
            header: JsonObject = {
                "format": FORMAT_VERSION,
                "cipher": "AES-256-GCM",
                **key_fields,
                "key_check": _key_check(key),
                "nonce": base64.b64encode(nonce).decode("ascii"),
            }
            hbytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
            aad = _PREFIX.pack(MAGIC, len(hbytes)) + hbytes
            plain = json.dumps({"entries": entries}, separators=(",", ":")).encode("utf-8")
            ciphertext = AESGCM(key).encrypt(nonce, plain, aad)
            atomic_write(self._path, aad + ciphertext)
            st = os.stat(self._path, follow_symlinks=False)
            sig = (st.st_size, st.st_mtime_ns, st.st_ino)
            self._state = _State(nonce=nonce, header=header, key=key, entries=entries, stat=sig)

    def _quarantine_sync(self, exc: _Corrupt) -> VaultCorruptError:
        """Move the damaged file aside (caller holds the vault lock)."""
        with self._mu:
            moved = quarantine(self._path)
            self._state = None
        err = VaultCorruptError(
            f"The secret vault could not be read: {exc.reason}. It was moved to {moved} and a "
            f"new, empty vault is used; servers need to sign in again (your server list is kept).",
            moved_to=str(moved),
        )
        log.warning("%s", err.message)
        self.corruption = err
        return err

    def _forget_sync(self) -> None:
        doomed = [self._path]
        with contextlib.suppress(OSError):
            doomed += sorted(self._path.parent.glob(f"{self._path.name}.corrupt-*"))
        headers = [h for h in (read_header(p) for p in doomed) if h is not None]
        with self._mu:
            for p in doomed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(p)
            remove_stale_temps(self._path)
            self._state = None
            self._keys.clear()
        failed = 0
        for header in headers:
            if header.get("key_source") != self._provider.key_source:
                continue
            try:
                self._provider.delete_key(header)
            except (KeyringUnavailableError, BadKeyHeaderError):
                failed += 1
        if failed:
            raise KeyringUnavailableError(
                f"The vault was deleted, but {failed} key item(s) named 'vault-key-…' could not "
                f"be removed from the OS keyring (service 'mcp-auth-desktop'); remove them by hand."
            )
