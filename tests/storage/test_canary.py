"""A canary secret never shows in logs, exception messages, reprs or files in the clear."""
# ruff: noqa: ASYNC240  (tests inspect small files directly; blocking is fine here)

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

import pytest

from mcp_auth_desktop.core.errors import KeyringUnavailableError, VaultLockedError
from mcp_auth_desktop.storage import (
    PASSPHRASE_ENV,
    FileVault,
    KeyringKeyProvider,
    MemoryKeyProvider,
    MemoryVault,
    PassphraseKeyProvider,
    open_storage,
)
from mcp_auth_desktop.storage.paths import AppPaths

from .conftest import FAST_N
from .fakes import DictKeyring, LeakyErrorKeyring

CANARY = "canary-7f3a9e-DO-NOT-LEAK"


def _all_text(exc: BaseException) -> str:
    return str(exc) + repr(exc) + "".join(traceback.format_exception(exc))


async def test_canary_never_leaks(
    paths: AppPaths, home: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    secret_entry = {
        "access_token": CANARY,
        "refresh_token": CANARY + "-rt",
        "client_secret": CANARY + "-cs",
        "registration_access_token": CANARY + "-rat",
    }
    ring = DictKeyring()
    vault, settings = open_storage(keyring_backend=ring)
    await vault.put("tokens/a", secret_entry)
    await settings.update(lambda d: d.update(servers=[{"name": "srv"}]))
    seen += [repr(vault), repr(settings), str(vault.location), vault.location.describe()]

    # A non-JSON value is refused without echoing it.
    with pytest.raises(TypeError) as bad_value:
        await vault.put("tokens/b", {CANARY: object(), "x": CANARY})
    seen.append(_all_text(bad_value.value))

    # Corruption found while running: message and log carry no secret.
    other = FileVault(paths, KeyringKeyProvider(ring))
    other.open_sync()
    await other.put("tokens/c", secret_entry)
    raw = bytearray(paths.vault_file.read_bytes())
    raw[-1] ^= 1
    paths.vault_file.write_bytes(bytes(raw))
    try:
        await vault.get("tokens/a")
    except Exception as exc:  # VaultCorruptError expected
        seen.append(_all_text(exc))

    # A passphrase is a secret too.
    pp = PassphraseKeyProvider(CANARY, n=FAST_N)
    seen.append(repr(pp))
    pv = FileVault(paths, pp)
    await pv.forget_everything()
    pv.open_sync()
    await pv.put("tokens/a", secret_entry)
    with pytest.raises(VaultLockedError) as wrong:
        FileVault(paths, PassphraseKeyProvider(CANARY + "x", n=FAST_N)).open_sync()
    seen.append(_all_text(wrong.value))
    monkeypatch.setenv(PASSPHRASE_ENV, CANARY)
    pv2, _ = open_storage(keyring_backend=ring, scrypt_n=FAST_N)
    seen.append(repr(pv2))

    seen += [repr(MemoryKeyProvider(os.urandom(32))), repr(MemoryVault())]
    mv = MemoryVault()
    await mv.put("tokens/a", secret_entry)
    seen.append(repr(mv))

    text = "\n".join(seen) + caplog.text
    assert CANARY not in text
    # On disk: only ciphertext, in the vault and in any file moved aside.
    for p in home.rglob("*"):
        if p.is_file():
            assert CANARY.encode() not in p.read_bytes(), p.name


def test_keyring_error_never_echoes_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ring = LeakyErrorKeyring()
    with pytest.raises(KeyringUnavailableError) as info:
        KeyringKeyProvider(ring).new_key()
    (attempted,) = ring.attempted
    assert attempted not in _all_text(info.value)
    assert attempted not in caplog.text
    assert "RuntimeError" in str(info.value)  # the kind of failure is still reported
