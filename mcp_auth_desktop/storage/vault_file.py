"""The vault's one encrypted file: read through a cache, written whole, moved aside, deleted.

See :mod:`.vault` for the layout. Reads are cached: the nonce is fresh on every
write, so comparing the header's nonce (and the file's size, mtime and inode) with
the cached one tells whether anyone wrote since, without trusting timestamps alone
(coarse on Linux: two same-size writes in one tick would look the same). Callers
hold the vault lock for anything but a read; a lock guards the cache between threads.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcp_auth_desktop.core.errors import (
    KeyringUnavailableError,
    StorageError,
    StorageWriteError,
    VaultLockedError,
)

from .atomic import atomic_write, quarantine, read_private, remove_stale_temps
from .base import JsonObject
from .keys import BadKeyHeaderError, KeyNotFoundError, KeyProvider
from .paths import check_private_file
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
    key_opens,
)

__all__ = ["VaultFile", "read_header"]

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


@dataclass
class _State:
    nonce: bytes
    header: JsonObject
    key: bytes
    entries: dict[str, JsonObject]
    stat: tuple[int, int, int]


class VaultFile:
    """The file at ``path``, opened with keys from ``provider`` (cached per key id or kdf)."""

    def __init__(self, path: Path, provider: KeyProvider) -> None:
        self.path = path
        self._provider = provider
        self._mu = threading.Lock()  # guards the cache between worker threads
        self._state: _State | None = None
        self._keys: dict[tuple[str, str], bytes] = {}

    def exists(self) -> bool:
        """Whether the last load or write found a vault (False: none yet, or moved aside)."""
        return self._state is not None

    def forget_cache(self) -> None:
        with self._mu:
            self._state = None
            self._keys.clear()

    def _key_for(self, header: Mapping[str, Any]) -> bytes:
        source = header["key_source"]
        if source != self._provider.key_source:
            raise VaultLockedError(
                f"The secret vault {self.path} is now protected by a {source} key; restart "
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
            if not key_opens(key, header):
                self._provider.wrong_key()
                if source == "passphrase":
                    raise VaultLockedError(
                        "That passphrase does not open the secret vault. Try again."
                    )
                raise _Corrupt("its key does not match")
            self._keys[ref] = key
        return key

    def load(self) -> dict[str, JsonObject]:
        """Current entries ({} when there is no file); raises _Corrupt."""
        with self._mu:
            state = self._state
            if state is not None and _peek(self.path) == (state.nonce, state.stat):
                return state.entries
            check_private_file(self.path)
            try:
                fd = os.open(self.path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
            except FileNotFoundError:
                self._state = None
                return {}
            except OSError as exc:
                raise StorageWriteError(f"Cannot read {self.path}: {exc.strerror}") from None
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

    def write(self, entries: dict[str, JsonObject]) -> None:
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
            atomic_write(self.path, aad + ciphertext)
            st = os.stat(self.path, follow_symlinks=False)
            sig = (st.st_size, st.st_mtime_ns, st.st_ino)
            self._state = _State(nonce=nonce, header=header, key=key, entries=entries, stat=sig)

    def move_aside(self) -> Path:
        """Move the damaged file aside (caller holds the vault lock); returns where it went."""
        with self._mu:
            moved = quarantine(self.path)
            self._state = None
        return moved

    def delete(self) -> None:
        doomed = [self.path]
        with contextlib.suppress(OSError):
            doomed += sorted(self.path.parent.glob(f"{self.path.name}.corrupt-*"))
        headers = [h for h in (read_header(p) for p in doomed) if h is not None]
        with self._mu:
            for p in doomed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(p)
            remove_stale_temps(self.path)
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
