"""open_storage: which key source, the explicit fallback, the env overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcp_auth_desktop.core.errors import (
    ConfigurationError,
    KeyringUnavailableError,
    VaultLockedError,
)
from mcp_auth_desktop.storage import (
    KEYRING_ENV,
    PASSPHRASE_ENV,
    FileVault,
    KeyringVaultUnavailableError,
    MemoryVault,
    open_storage,
    open_storage_async,
)
from mcp_auth_desktop.storage.paths import app_paths

from .conftest import FAST_N
from .fakes import DictKeyring, DroppingKeyring, HangingKeyring, LockedKeyring


def test_new_vault_uses_the_keyring(home: Path) -> None:
    ring = DictKeyring()
    vault, settings = open_storage(keyring_backend=ring)
    assert isinstance(vault, FileVault)
    assert vault.location.key_source == "keyring"
    assert vault.location.vault_path == str(home / "vault.bin")
    assert (home / "vault.bin").exists()
    assert settings.path == str(home / "settings.json")
    assert ring.calls == {"set": 1, "get": 1}
    ring.calls.clear()
    again, _ = open_storage(keyring_backend=ring)
    assert ring.calls == {"get": 1}
    assert "key in" in again.location.describe()


@pytest.mark.parametrize("ring_cls", [DroppingKeyring, LockedKeyring])
def test_no_keyring_no_passphrase_is_an_explicit_error(home: Path, ring_cls: type[DictKeyring]) -> None:
    with pytest.raises(KeyringUnavailableError) as info:
        open_storage(keyring_backend=ring_cls())
    msg = str(info.value)
    assert PASSPHRASE_ENV in msg and "never stored in plain text" in msg
    assert not isinstance(info.value, KeyringVaultUnavailableError)  # a passphrase would help
    assert not (home / "vault.bin").exists()
    assert [p.name for p in home.iterdir() if p.name.startswith("vault.bin")] == []


def test_hanging_keyring_falls_back_to_passphrase_visibly(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "env passphrase")
    ring = HangingKeyring()
    try:
        vault, _ = open_storage(keyring_backend=ring, keyring_timeout=0.2, scrypt_n=FAST_N)
    finally:
        ring.release.set()
    assert vault.location.key_source == "passphrase"
    assert "passphrase" in vault.location.describe()
    assert any(r.levelname == "WARNING" and "passphrase" in r.getMessage() for r in caplog.records)


async def test_passphrase_vault_asks_at_every_start(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return "typed once"

    vault, _ = open_storage(keyring_backend=DroppingKeyring(), passphrase_provider=ask, scrypt_n=FAST_N)
    assert len(asked) == 1
    await vault.put("a", {"v": 1})
    # Next start: the header says "passphrase", so the keyring is not even tried.
    ring = DictKeyring()
    with pytest.raises(VaultLockedError):
        open_storage(keyring_backend=ring)
    assert ring.calls == {}
    again, _ = open_storage(keyring_backend=ring, passphrase_provider=ask)
    assert await again.get("a") == {"v": 1}
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(VaultLockedError):
        open_storage(keyring_backend=ring)


async def test_keyring_vault_never_switches_silently(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault, _ = open_storage(keyring_backend=DictKeyring())
    await vault.put("a", {"v": 1})
    before = (home / "vault.bin").read_bytes()
    monkeypatch.setenv(PASSPHRASE_ENV, "a passphrase")
    with pytest.raises(KeyringVaultUnavailableError) as info:
        open_storage(keyring_backend=LockedKeyring())
    assert "a passphrase cannot open it" in str(info.value)
    assert (home / "vault.bin").read_bytes() == before


def test_passphrase_mode_skips_the_keyring(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYRING_ENV, "passphrase")
    monkeypatch.setenv(PASSPHRASE_ENV, "pass phrase")
    ring = DictKeyring()
    vault, _ = open_storage(keyring_backend=ring, scrypt_n=FAST_N)
    assert vault.location.key_source == "passphrase"
    assert ring.calls == {}


def test_memory_mode_saves_no_secret(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYRING_ENV, "memory")
    vault, settings = open_storage(keyring_backend=DictKeyring())
    assert isinstance(vault, MemoryVault)
    assert vault.location.describe() == "in memory only (nothing is saved)"
    assert not (home / "vault.bin").exists()
    assert settings.path == str(home / "settings.json")


def test_bad_mode_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYRING_ENV, "plaintext")
    with pytest.raises(ConfigurationError):
        open_storage(keyring_backend=DictKeyring())


def test_explicit_home_and_platform_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = tmp_path / "portable"
    vault, settings = open_storage(explicit, keyring_backend=DictKeyring())
    assert vault.location.vault_path == str(explicit / "vault.bin")
    assert oct(explicit.stat().st_mode & 0o777) == "0o700"
    monkeypatch.delenv("MCP_AUTH_DESKTOP_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    p = app_paths()
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert p.settings_file == tmp_path / "cfg" / "mcp-auth-desktop" / "settings.json"
        assert p.vault_file == tmp_path / "data" / "mcp-auth-desktop" / "vault.bin"
    assert p.config_dir.name == p.data_dir.name == "mcp-auth-desktop"


async def test_open_storage_async(home: Path) -> None:
    vault, settings = await open_storage_async(keyring_backend=DictKeyring())
    await vault.put("a", {"v": 1})
    assert await vault.get("a") == {"v": 1}
    assert (await settings.load())["schema_version"] == 1
