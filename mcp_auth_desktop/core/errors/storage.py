"""Errors of keeping secrets and settings: the keyring, the vault, and the files on disk."""

from __future__ import annotations

from mcp_auth_desktop.core.errors.base import McpAuthError

__all__ = [
    "StorageError",
    "KeyringUnavailableError",
    "VaultLockedError",
    "WeakPassphraseError",
    "VaultCorruptError",
    "UnsafePathError",
    "StorageWriteError",
]


class StorageError(McpAuthError):
    """Secrets or settings could not be read or written."""


class KeyringUnavailableError(StorageError):
    """No usable OS keyring: absent, locked, or not answering in time."""


class VaultLockedError(StorageError):
    """The vault needs a passphrase, or the one given is wrong."""


class WeakPassphraseError(VaultLockedError):
    """A new vault was to be protected by a passphrase the policy refuses (core/passphrase_policy)."""


class VaultCorruptError(StorageError):
    """The vault could not be decrypted or parsed; it was moved aside.

    ``moved_to`` is where the damaged file now lies.
    """

    def __init__(self, message: str, *, moved_to: str | None = None) -> None:
        super().__init__(message)
        self.moved_to = moved_to


class UnsafePathError(StorageError):
    """A storage path is a symlink, owned by someone else, or has an unsafe parent."""


class StorageWriteError(StorageError):
    """A write failed (disk full, permission denied); the old content is intact."""
