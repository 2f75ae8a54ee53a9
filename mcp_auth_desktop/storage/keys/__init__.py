"""Where the vault's 256-bit key comes from.

* :class:`KeyringKeyProvider` keeps one random key per vault as one item in
  the OS keyring (one item whatever the number of servers, so macOS asks at
  most once and Windows' 2560-byte limit is never near). Every keyring call
  runs in a daemon thread bounded by a timeout, because Secret Service can
  hang on D-Bus forever; a hung thread is abandoned rather than waited for.
  A new key is read back after writing: a backend that silently drops
  writes would otherwise lose every secret at the next start.
* :class:`PassphraseKeyProvider` derives the key with scrypt from a
  passphrase the user gives once; salt and cost live in the vault header.
* :class:`MemoryKeyProvider` holds a key in memory (tests, benchmarks).

The vault header carries ``key_source`` plus the provider's fields
(``key_id`` or ``kdf``), so a later start knows which provider to use and,
for a passphrase vault, that it must ask for the passphrase.

One module per source, sharing the contract:

    provider.py    KeyProvider, its errors, KEY_BYTES, MemoryKeyProvider
    os_keyring.py  KeyringKeyProvider and its bounded calls (call_with_timeout)
    passphrase.py  PassphraseKeyProvider (scrypt)
"""

from __future__ import annotations

from .os_keyring import KEYRING_SERVICE, KeyringKeyProvider, call_with_timeout, describe_backend
from .passphrase import PassphraseKeyProvider
from .provider import (
    KEY_BYTES,
    BadKeyHeaderError,
    KeyNotFoundError,
    KeyProvider,
    MemoryKeyProvider,
)

__all__ = [
    "KEY_BYTES",
    "KEYRING_SERVICE",
    "KeyProvider",
    "KeyNotFoundError",
    "BadKeyHeaderError",
    "KeyringKeyProvider",
    "PassphraseKeyProvider",
    "MemoryKeyProvider",
    "call_with_timeout",
    "describe_backend",
]
