"""Storage: an encrypted secret vault and a plain settings file, behind two Protocols.

:func:`open_storage` is what the GUI and the CLI call. It decides where the
vault key lives and says so through ``vault.location``:

1. An existing vault: its header names the key source. A keyring vault
   needs the keyring (one read per start); a passphrase vault needs the
   passphrase (``MCP_AUTH_DESKTOP_PASSPHRASE``, else ``passphrase_provider``).
2. No vault yet: the OS keyring, with the new key read back to prove it was
   kept. If the keyring is absent, locked, hung or loses writes, the
   passphrase is used instead, with a warning, and if there is no
   passphrase either, :class:`KeyringUnavailableError` says what to do.
   Secrets are never written in plain text.

``MCP_AUTH_DESKTOP_KEYRING`` overrides the choice for a new vault:
``passphrase`` (never use the keyring) or ``memory`` (secrets kept in
memory only, nothing saved; settings still use the file).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import JsonObject, SecretVault, SettingsStore, StorageLocation
    from .keys import KeyringKeyProvider, MemoryKeyProvider, PassphraseKeyProvider
    from .memory import MemorySettings, MemoryVault
    from .opening import (
        KeyringVaultUnavailableError,
        open_settings,
        open_storage,
        open_storage_async,
    )
    from .paths import AppPaths, app_paths
    from .settings import FileSettings
    from .vault import FileVault

__all__ = [
    "JsonObject",
    "SecretVault",
    "SettingsStore",
    "StorageLocation",
    "FileVault",
    "FileSettings",
    "MemoryVault",
    "MemorySettings",
    "KeyringKeyProvider",
    "PassphraseKeyProvider",
    "MemoryKeyProvider",
    "AppPaths",
    "app_paths",
    "open_settings",
    "open_storage",
    "open_storage_async",
    "HOME_ENV",
    "KEYRING_ENV",
    "KeyringVaultUnavailableError",
    "PASSPHRASE_ENV",
]

# Every name loads its module on first use (PEP 562): importing one small storage module
# (``mcp-auth token``'s lean path reads the vault format and the Secret Service) must not
# import the whole layer, asyncio and logging included.
_LAZY = {
    "JsonObject": ".base",
    "SecretVault": ".base",
    "SettingsStore": ".base",
    "StorageLocation": ".base",
    "FileVault": ".vault",
    "FileSettings": ".settings",
    "MemoryVault": ".memory",
    "MemorySettings": ".memory",
    "KeyringKeyProvider": ".keys",
    "PassphraseKeyProvider": ".keys",
    "MemoryKeyProvider": ".keys",
    "AppPaths": ".paths",
    "app_paths": ".paths",
    "open_settings": ".opening",
    "open_storage": ".opening",
    "open_storage_async": ".opening",
    "KeyringVaultUnavailableError": ".opening",
}

HOME_ENV = "MCP_AUTH_DESKTOP_HOME"  # = paths.HOME_ENV (a test compares them)
KEYRING_ENV = "MCP_AUTH_DESKTOP_KEYRING"  # = opening.KEYRING_ENV
PASSPHRASE_ENV = "MCP_AUTH_DESKTOP_PASSPHRASE"  # = opening.PASSPHRASE_ENV


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
