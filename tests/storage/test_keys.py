"""Key providers: keyrings that hang, lock, lie or are absent; scrypt passphrases."""

from __future__ import annotations

import threading

import pytest
from keyring.backends import fail, null

from mcp_auth_desktop.core.errors import KeyringUnavailableError, VaultLockedError
from mcp_auth_desktop.storage import FileVault, KeyringKeyProvider, PassphraseKeyProvider
from mcp_auth_desktop.storage.keys import KEYRING_SERVICE, call_with_timeout, describe_backend
from mcp_auth_desktop.storage.paths import AppPaths

from .fakes import DictKeyring, DroppingKeyring, HangingKeyring, LockedKeyring


def test_call_with_timeout_returns_and_raises() -> None:
    assert call_with_timeout(lambda: 42, 1.0, "x") == 42

    def boom() -> int:
        raise LookupError("inner")

    with pytest.raises(LookupError):
        call_with_timeout(boom, 1.0, "x")


def test_hanging_keyring_times_out_on_create() -> None:
    ring = HangingKeyring()
    try:
        with pytest.raises(KeyringUnavailableError) as info:
            KeyringKeyProvider(ring, timeout=0.2).new_key()
        assert "did not answer within 0.2 s" in str(info.value)
    finally:
        ring.release.set()


def test_hanging_keyring_on_existing_vault_leaves_it_alone(paths: AppPaths) -> None:
    good = DictKeyring()
    v = FileVault(paths, KeyringKeyProvider(good))
    v.open_sync()
    before = paths.vault_file.read_bytes()
    hung = HangingKeyring()
    hung.items = good.items
    try:
        with pytest.raises(KeyringUnavailableError):
            FileVault(paths, KeyringKeyProvider(hung, timeout=0.2)).open_sync()
    finally:
        hung.release.set()
    # Not mistaken for a lost key: nothing moved aside, nothing rewritten.
    assert paths.vault_file.read_bytes() == before
    assert list(paths.data_dir.glob("*.corrupt-*")) == []


def test_hanging_backend_lookup_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    gate = threading.Event()

    def stuck() -> object:
        gate.wait(30)
        return DictKeyring()

    monkeypatch.setattr(keyring, "get_keyring", stuck)
    try:
        with pytest.raises(KeyringUnavailableError):
            KeyringKeyProvider(None, timeout=0.2).probe()
    finally:
        gate.set()


def test_dropping_keyring_is_detected_by_read_back() -> None:
    ring = DroppingKeyring()
    with pytest.raises(KeyringUnavailableError) as info:
        KeyringKeyProvider(ring).new_key()
    assert "did not keep it" in str(info.value)
    assert ring.calls["set"] == 1 and ring.calls["get"] == 1


def test_locked_keyring_is_unavailable() -> None:
    with pytest.raises(KeyringUnavailableError) as info:
        KeyringKeyProvider(LockedKeyring()).new_key()
    assert "KeyringLocked" in str(info.value)


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_absent_or_null_backends_are_refused_up_front(backend: object) -> None:
    with pytest.raises(KeyringUnavailableError) as info:
        KeyringKeyProvider(backend).new_key()
    assert "No usable OS keyring" in str(info.value)


def test_keyring_item_naming_and_delete() -> None:
    ring = DictKeyring()
    provider = KeyringKeyProvider(ring)
    key, fields = provider.new_key()
    assert len(key) == 32
    ((service, user),) = ring.items
    assert service == KEYRING_SERVICE and user == f"vault-key-{fields['key_id']}"
    header = {"key_source": "keyring", **fields}
    assert provider.load_key(header) == key
    provider.delete_key(header)
    provider.delete_key(header)  # already gone: fine
    assert ring.items == {}


def test_describe_backend_names() -> None:
    from keyring.backends import SecretService

    assert describe_backend(SecretService.Keyring()).startswith("Secret Service")
    assert describe_backend(DictKeyring()) == DictKeyring().name


def test_passphrase_product_parameters_and_determinism() -> None:
    p = PassphraseKeyProvider("pässphrase ✓")  # the real cost (n = 2**15)
    key, fields = p.new_key()
    assert fields["kdf"]["n"] == 2**15 and fields["kdf"]["r"] == 8
    header = {"key_source": "passphrase", **fields}
    again = PassphraseKeyProvider("pässphrase ✓")
    assert again.load_key(header) == key
    assert PassphraseKeyProvider("other", n=2**10).load_key(header) != key


def test_passphrase_callback_asked_once_and_empty_means_locked() -> None:
    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return "pw"

    p = PassphraseKeyProvider(ask, n=2**10)
    _, fields = p.new_key()
    p.load_key({"key_source": "passphrase", **fields})
    p.new_key()
    assert len(asked) == 1
    with pytest.raises(VaultLockedError):
        PassphraseKeyProvider(lambda: "", n=2**10).new_key()
