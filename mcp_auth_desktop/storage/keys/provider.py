"""What a source of vault keys is (:class:`KeyProvider`), its errors, and the in-memory one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from mcp_auth_desktop.core.errors import StorageError

from ..base import JsonObject, KeySource

__all__ = ["KEY_BYTES", "KeyProvider", "KeyNotFoundError", "BadKeyHeaderError", "MemoryKeyProvider"]

KEY_BYTES = 32


class KeyNotFoundError(StorageError):
    """The keyring answered, and the vault's key is not there (or is not a key)."""


class BadKeyHeaderError(StorageError):
    """The key fields of a vault header are malformed or out of bounds."""


class KeyProvider(Protocol):
    """Makes and finds vault keys. Methods block (bounded); call them off the event loop."""

    @property
    def key_source(self) -> KeySource: ...

    @property
    def backend(self) -> str:
        """Human description for :class:`StorageLocation`."""
        ...

    def new_key(self) -> tuple[bytes, JsonObject]:
        """A fresh key and the header fields that let :meth:`load_key` find it again."""
        ...

    def load_key(self, header: Mapping[str, Any]) -> bytes:
        """The key for this header. Raises KeyNotFoundError, KeyringUnavailableError,
        VaultLockedError or BadKeyHeaderError."""
        ...

    def wrong_key(self) -> None:
        """The key from :meth:`load_key` did not match the vault (forget cached input)."""
        ...

    def delete_key(self, header: Mapping[str, Any]) -> None: ...


class MemoryKeyProvider:
    """A fixed key held in memory. Processes sharing ``key`` can share one vault file."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else os.urandom(KEY_BYTES)
        if len(self._key) != KEY_BYTES:
            raise ValueError("a vault key is 32 bytes")

    def __repr__(self) -> str:
        return "MemoryKeyProvider()"

    @property
    def key_source(self) -> KeySource:
        return "memory"

    @property
    def backend(self) -> str:
        return "memory"

    def new_key(self) -> tuple[bytes, JsonObject]:
        return self._key, {"key_id": secrets.token_hex(16)}

    def load_key(self, header: Mapping[str, Any]) -> bytes:
        return self._key

    def wrong_key(self) -> None:
        return None

    def delete_key(self, header: Mapping[str, Any]) -> None:
        return None
