"""The storage contracts, as the storage package implements them.

They are the core's ports (:mod:`mcp_auth_desktop.core.ports`) and are written
there once; storage implements them, the core never imports storage. Two stores,
kept apart because one holds secrets and one does not:

* :class:`SecretVault` holds secrets (tokens, client secrets, registration
  access tokens) as named JSON objects. The real one is an AES-256-GCM file
  whose key sits in the OS keyring (or is derived from a passphrase); the
  in-memory one serves tests and ``--ephemeral`` runs.
* :class:`SettingsStore` holds what is not secret (servers, options, what
  discovery found) in a human-readable JSON file.
"""

from __future__ import annotations

from mcp_auth_desktop.core.ports import (
    JsonObject,
    KeySource,
    SecretVault,
    SettingsStore,
    StorageLocation,
)

__all__ = ["StorageLocation", "SecretVault", "SettingsStore", "JsonObject", "KeySource"]
