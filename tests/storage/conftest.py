"""Fixtures for the storage tests: an app home, keys, and vaults of every kind."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_auth_desktop.storage import (
    FileVault,
    MemoryKeyProvider,
    MemoryVault,
    PassphraseKeyProvider,
    SecretVault,
    open_storage,
)
from mcp_auth_desktop.storage.paths import AppPaths, app_paths

# Fast scrypt for tests; the product default (2**15) is exercised in test_keys.
FAST_N = 2**10


@pytest.fixture
def home() -> Path:
    return Path(os.environ["MCP_AUTH_DESKTOP_HOME"])


@pytest.fixture
def paths(home: Path) -> AppPaths:
    p = app_paths(home)
    p.ensure()
    return p


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


@pytest.fixture(
    params=[
        "memory",
        "file-memory-key",
        "file-passphrase",
        pytest.param("file-secret-service", marks=pytest.mark.keyring),
    ]
)
async def vault(request: pytest.FixtureRequest, paths: AppPaths, key: bytes) -> AsyncIterator[SecretVault]:
    """The same contract suite runs against each backend."""
    kind = request.param
    v: SecretVault
    if kind == "memory":
        v = MemoryVault()
    elif kind == "file-memory-key":
        fv = FileVault(paths, MemoryKeyProvider(key))
        fv.open_sync()
        v = fv
    elif kind == "file-passphrase":
        fv = FileVault(paths, PassphraseKeyProvider("correct horse", n=FAST_N))
        fv.open_sync()
        v = fv
    else:
        # The real Secret Service (gnome-keyring started by scripts/headless.sh).
        v, _ = open_storage(paths.data_dir)
        assert v.location.key_source == "keyring"
        assert "Secret Service" in v.location.backend
    try:
        yield v
    finally:
        await v.forget_everything()
        await v.aclose()
