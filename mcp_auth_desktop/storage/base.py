"""The storage interface: what the manager and the tests depend on.

Two stores, kept apart because one holds secrets and one does not:

* :class:`SecretVault` holds secrets (tokens, client secrets, registration
  access tokens) as named JSON objects. The real one is an AES-256-GCM file
  whose key sits in the OS keyring (or is derived from a passphrase); the
  in-memory one serves tests and ``--ephemeral`` runs.
* :class:`SettingsStore` holds what is not secret (servers, options, what
  discovery found) in a human-readable JSON file.

Both are safe to share between processes: every write takes a cross-process
lock, re-reads the file, applies the change and replaces the file
atomically, so concurrent writers never lose one another's updates.
``SecretVault.lock(name)`` is a separate per-entry cross-process lock the
manager holds across a refresh so a rotating refresh token is sent once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["StorageLocation", "SecretVault", "SettingsStore", "JsonObject"]

JsonObject = dict[str, Any]

KeySource = Literal["keyring", "passphrase", "memory"]


@dataclass(frozen=True)
class StorageLocation:
    """Where secrets are kept, in words for the GUI and ``mcp-auth status``."""

    key_source: KeySource
    #: e.g. "Secret Service (gnome-keyring)", "macOS Keychain", "passphrase (scrypt)".
    backend: str
    #: Path of the encrypted vault file, or None for memory.
    vault_path: str | None

    def describe(self) -> str:
        if self.key_source == "memory":
            return "in memory only (nothing is saved)"
        where = self.vault_path or "?"
        if self.key_source == "keyring":
            return f"encrypted vault {where}, key in {self.backend}"
        return f"encrypted vault {where}, key derived from your passphrase"


class SecretVault(Protocol):
    """Named JSON objects holding secrets. All methods are safe across processes."""

    @property
    def location(self) -> StorageLocation: ...

    async def get(self, name: str) -> JsonObject | None:
        """The entry's current value, re-read from disk if another process changed it."""
        ...

    async def put(self, name: str, value: JsonObject) -> None:
        """Set one entry (lock, re-read, change, atomic replace)."""
        ...

    async def delete(self, name: str) -> None:
        """Remove one entry; a missing entry is not an error."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every entry whose name starts with ``prefix``; returns the count."""
        ...

    async def names(self) -> list[str]: ...

    def lock(self, name: str) -> AbstractAsyncContextManager[None]:
        """A cross-process lock for one entry, held by the caller across a refresh."""
        ...

    async def forget_everything(self) -> None:
        """Delete the vault file and its keyring item."""
        ...

    async def aclose(self) -> None: ...


class SettingsStore(Protocol):
    """The non-secret settings document (schema-versioned JSON)."""

    @property
    def path(self) -> str | None: ...

    async def load(self) -> JsonObject:
        """The whole document, migrated to the current schema."""
        ...

    async def update(self, change: Callable[[JsonObject], None]) -> JsonObject:
        """Lock, re-read, apply ``change`` in place, write atomically; returns the result."""
        ...

    def watch(self) -> AsyncIterator[JsonObject]:
        """Yields the document each time another process changes it (polling is fine)."""
        ...
