"""FileVault: file format, cross-instance cache, corruption handling, key bookkeeping."""
# ruff: noqa: ASYNC240  (tests inspect small files directly; blocking is fine here)

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcp_auth_desktop.core.errors import StorageWriteError, VaultCorruptError, VaultLockedError
from mcp_auth_desktop.storage import (
    FileVault,
    KeyringKeyProvider,
    MemoryKeyProvider,
    PassphraseKeyProvider,
)
from mcp_auth_desktop.storage.paths import AppPaths
from mcp_auth_desktop.storage.vault import MAGIC
from mcp_auth_desktop.storage.vault_format import _key_check

from .conftest import FAST_N
from .fakes import DictKeyring


def _open(paths: AppPaths, key: bytes) -> FileVault:
    v = FileVault(paths, MemoryKeyProvider(key))
    v.open_sync()
    return v


def _craft(path: Path, key: bytes, plaintext: bytes, **header_extra: object) -> None:
    """Write a vault file by hand, following the documented layout."""
    nonce = os.urandom(12)
    header = {
        "format": 1,
        "cipher": "AES-256-GCM",
        "key_source": "memory",
        "key_id": "0" * 32,
        "key_check": _key_check(key),
        "nonce": base64.b64encode(nonce).decode(),
        **header_extra,
    }
    hb = json.dumps(header).encode()
    aad = MAGIC + struct.pack(">I", len(hb)) + hb
    path.write_bytes(aad + AESGCM(key).encrypt(nonce, plaintext, aad))


async def test_file_is_encrypted_and_documented_layout_decrypts(paths: AppPaths, key: bytes) -> None:
    v = _open(paths, key)
    await v.put("tokens/x", {"refresh_token": "plain-text-marker-123"})
    raw = paths.vault_file.read_bytes()
    assert b"plain-text-marker-123" not in raw
    assert raw.startswith(MAGIC)
    (hlen,) = struct.unpack(">I", raw[8:12])
    header = json.loads(raw[12 : 12 + hlen])
    assert header["format"] == 1 and header["key_source"] == "memory"
    aad = raw[: 12 + hlen]
    plain = AESGCM(key).decrypt(base64.b64decode(header["nonce"]), raw[12 + hlen :], aad)
    assert json.loads(plain) == {"entries": {"tokens/x": {"refresh_token": "plain-text-marker-123"}}}


async def test_hand_crafted_file_is_read(paths: AppPaths, key: bytes) -> None:
    _craft(paths.vault_file, key, json.dumps({"entries": {"a": {"v": 1}}}).encode())
    v = _open(paths, key)
    assert v.corruption is None
    assert await v.get("a") == {"v": 1}


async def test_each_write_uses_a_fresh_nonce(paths: AppPaths, key: bytes) -> None:
    v = _open(paths, key)
    nonces = set()
    for i in range(20):
        await v.put("a", {"i": 0})  # same content every time
        raw = paths.vault_file.read_bytes()
        (hlen,) = struct.unpack(">I", raw[8:12])
        nonces.add(json.loads(raw[12 : 12 + hlen])["nonce"])
    assert len(nonces) == 20


async def test_two_instances_see_each_others_writes(paths: AppPaths, key: bytes) -> None:
    a, b = _open(paths, key), _open(paths, key)
    await a.put("x", {"v": "from a"})
    assert await b.get("x") == {"v": "from a"}
    await b.put("y", {"v": "from b"})
    assert await a.names() == ["x", "y"]
    # Same-size rewrites in quick succession (same mtime tick, same size) are all seen.
    for i in range(100):
        writer, reader = (a, b) if i % 2 else (b, a)
        await writer.put("x", {"v": f"{i:04d}"})
        assert await reader.get("x") == {"v": f"{i:04d}"}


async def test_instances_do_not_lose_each_others_entries(paths: AppPaths, key: bytes) -> None:
    a, b = _open(paths, key), _open(paths, key)
    await a.get("warm-cache")
    await b.put("b1", {"v": 1})
    await a.put("a1", {"v": 1})  # a re-reads under the lock: b1 survives
    assert await b.names() == ["a1", "b1"]


async def test_no_write_when_nothing_changes(paths: AppPaths, key: bytes) -> None:
    v = _open(paths, key)
    before = paths.vault_file.read_bytes()
    await v.delete("absent")
    assert await v.delete_prefix("absent/") == 0
    assert paths.vault_file.read_bytes() == before


async def test_stale_temp_files_are_removed_by_the_next_writer(paths: AppPaths, key: bytes) -> None:
    v = _open(paths, key)
    stale = paths.data_dir / ".vault.bin.tmp-deadbeefdeadbeef"
    stale.write_bytes(b"half a vault")
    await v.put("a", {"v": 1})
    assert not stale.exists()


async def test_failed_write_keeps_old_content(paths: AppPaths, key: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    v = _open(paths, key)
    await v.put("a", {"v": 1})
    before = paths.vault_file.read_bytes()

    def full_disk(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(StorageWriteError) as info:
        await v.put("a", {"v": 2})
    monkeypatch.undo()
    assert "intact" in str(info.value)
    assert paths.vault_file.read_bytes() == before
    assert [p.name for p in paths.data_dir.iterdir() if ".tmp-" in p.name] == []
    assert await _open(paths, key).get("a") == {"v": 1}


# -- corruption ------------------------------------------------------------------


def _truncate_half(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


def _truncate_to_5(p: Path) -> None:
    p.write_bytes(p.read_bytes()[:5])


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _flip_last_byte(p: Path) -> None:
    raw = bytearray(p.read_bytes())
    raw[-1] ^= 0x01
    p.write_bytes(bytes(raw))


def _flip_body_byte(p: Path) -> None:
    raw = bytearray(p.read_bytes())
    raw[len(raw) - 30] ^= 0x80
    p.write_bytes(bytes(raw))


def _tamper_header(p: Path) -> None:
    raw = p.read_bytes()
    (hlen,) = struct.unpack(">I", raw[8:12])
    header = json.loads(raw[12 : 12 + hlen])
    header["extra"] = "x"  # still valid JSON, but it is associated data
    hb = json.dumps(header).encode()
    p.write_bytes(MAGIC + struct.pack(">I", len(hb)) + hb + raw[12 + hlen :])


def _garbage(p: Path) -> None:
    p.write_bytes(b"PK\x03\x04 this is a zip file, not a vault" * 10)


def _future_format(p: Path) -> None:
    raw = p.read_bytes()
    (hlen,) = struct.unpack(">I", raw[8:12])
    header = json.loads(raw[12 : 12 + hlen])
    header["format"] = 99
    hb = json.dumps(header).encode()
    p.write_bytes(MAGIC + struct.pack(">I", len(hb)) + hb + raw[12 + hlen :])


DAMAGE = {
    "truncated-half": (_truncate_half, "truncated"),
    "truncated-5-bytes": (_truncate_to_5, "truncated"),
    "empty": (_empty, "truncated"),
    "bad-tag": (_flip_last_byte, "integrity"),
    "flipped-ciphertext": (_flip_body_byte, "integrity"),
    "tampered-header": (_tamper_header, "integrity"),
    "not-a-vault": (_garbage, "not an MCP Auth Desktop vault"),
    "future-format": (_future_format, "newer version"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
async def test_damaged_vault_is_moved_aside_at_open(
    paths: AppPaths, key: bytes, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    v = _open(paths, key)
    await v.put("tokens/a", {"refresh_token": "rt"})
    damage_fn, reason = DAMAGE[damage]
    damage_fn(paths.vault_file)
    damaged = paths.vault_file.read_bytes()

    fresh = _open(paths, key)  # a new start: does not raise, says what happened
    assert fresh.corruption is not None
    assert reason in str(fresh.corruption)
    moved = Path(fresh.corruption.moved_to or "")
    assert moved.name.startswith("vault.bin.corrupt-")
    assert moved.read_bytes() == damaged  # nothing overwritten
    assert await fresh.names() == []  # affected servers sign in again
    await fresh.put("tokens/b", {"refresh_token": "new"})
    assert await _open(paths, key).get("tokens/b") == {"refresh_token": "new"}
    assert any("moved to" in r.getMessage() for r in caplog.records)


async def test_damage_found_while_running_raises_once(
    paths: AppPaths, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    v = _open(paths, key)
    await v.put("a", {"v": 1})
    await _open(paths, key).put("b", {"v": 2})  # another process writes; v's cache is stale
    _flip_last_byte(paths.vault_file)
    with pytest.raises(VaultCorruptError) as info:
        await v.get("a")
    assert info.value.moved_to and Path(info.value.moved_to).exists()
    assert await v.get("a") is None  # then an empty, working vault
    assert not paths.vault_file.exists()


async def test_put_on_damaged_vault_keeps_the_new_value(
    paths: AppPaths, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    v = _open(paths, key)
    await v.put("a", {"v": 1})
    _truncate_half(paths.vault_file)
    await v.put("b", {"fresh": "tokens"})
    assert v.corruption is not None
    assert await _open(paths, key).names() == ["b"]


async def test_valid_encryption_of_bad_json_is_corruption(
    paths: AppPaths, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    _craft(paths.vault_file, key, b"{not json")
    v = _open(paths, key)
    assert v.corruption is not None and "not valid JSON" in str(v.corruption)


@pytest.mark.parametrize(
    "plaintext",
    [b'{"entries": []}', b'{"entries": {"a": "not an object"}}', b"[1, 2]", b'{"entries": {"a": NaN}}'],
)
async def test_wrong_shape_is_corruption(
    paths: AppPaths, key: bytes, plaintext: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    _craft(paths.vault_file, key, plaintext)
    v = _open(paths, key)
    assert v.corruption is not None


async def test_wrong_key_is_corruption(paths: AppPaths, key: bytes, caplog: pytest.LogCaptureFixture) -> None:
    v = _open(paths, key)
    await v.put("a", {"v": 1})
    other = _open(paths, os.urandom(32))
    assert other.corruption is not None and "key does not match" in str(other.corruption)


async def test_key_missing_from_keyring_is_corruption(paths: AppPaths, caplog: pytest.LogCaptureFixture) -> None:
    ring = DictKeyring()
    v = FileVault(paths, KeyringKeyProvider(ring))
    v.open_sync()
    await v.put("a", {"v": 1})
    ring.items.clear()  # e.g. the user cleaned the keychain
    again = FileVault(paths, KeyringKeyProvider(ring))
    again.open_sync()
    assert again.corruption is not None and "no longer in the OS keyring" in str(again.corruption)
    assert await again.names() == []


async def test_wrong_passphrase_is_locked_not_corrupt(paths: AppPaths) -> None:
    v = FileVault(paths, PassphraseKeyProvider("right one", n=FAST_N))
    v.open_sync()
    await v.put("a", {"v": 1})
    before = paths.vault_file.read_bytes()
    wrong = FileVault(paths, PassphraseKeyProvider("wrong one", n=FAST_N))
    with pytest.raises(VaultLockedError):
        wrong.open_sync()
    assert paths.vault_file.read_bytes() == before
    assert list(paths.data_dir.glob("*.corrupt-*")) == []
    answers = iter(["still wrong", "right one"])
    asking = FileVault(paths, PassphraseKeyProvider(lambda: next(answers), n=FAST_N))
    with pytest.raises(VaultLockedError):
        asking.open_sync()
    asking.open_sync()  # asked again, not stuck on the wrong answer
    assert await asking.get("a") == {"v": 1}


async def test_missing_passphrase_is_locked(paths: AppPaths) -> None:
    v = FileVault(paths, PassphraseKeyProvider("pw", n=FAST_N))
    v.open_sync()
    with pytest.raises(VaultLockedError) as info:
        FileVault(paths, PassphraseKeyProvider(lambda: None, n=FAST_N)).open_sync()
    assert "MCP_AUTH_DESKTOP_PASSPHRASE" in str(info.value)


async def test_hostile_scrypt_parameters_are_refused(
    paths: AppPaths, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    _craft(
        paths.vault_file,
        key,
        b'{"entries": {}}',
        key_source="passphrase",
        kdf={"name": "scrypt", "salt": base64.b64encode(b"s" * 16).decode(), "n": 2**30, "r": 8, "p": 1},
    )
    v = FileVault(paths, PassphraseKeyProvider("pw", n=FAST_N))
    v.open_sync()  # must not try to allocate 1 TiB: the header is refused
    assert v.corruption is not None and "scrypt n" in str(v.corruption)


# -- keyring bookkeeping -------------------------------------------------------------


async def test_one_keyring_read_per_start_whatever_the_number_of_entries(paths: AppPaths) -> None:
    ring = DictKeyring()
    first = FileVault(paths, KeyringKeyProvider(ring))
    first.open_sync()
    assert ring.calls == {"set": 1, "get": 1}  # new key, read back
    for i in range(50):
        await first.put(f"tokens/{i}", {"i": i})
    ring.calls.clear()

    second = FileVault(paths, KeyringKeyProvider(ring))
    second.open_sync()
    for i in range(50):
        assert await second.get(f"tokens/{i}") == {"i": i}
    await first.put("tokens/0", {"i": "changed elsewhere"})
    assert await second.get("tokens/0") == {"i": "changed elsewhere"}
    await second.put("tokens/1", {"i": "x"})
    assert ring.calls == {"get": 1}
    assert len(ring.items) == 1  # one item whatever the number of servers


async def test_forget_everything_deletes_file_and_keyring_items(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    ring = DictKeyring()
    v = FileVault(paths, KeyringKeyProvider(ring))
    v.open_sync()
    await v.put("a", {"v": 1})
    _flip_last_byte(paths.vault_file)
    v2 = FileVault(paths, KeyringKeyProvider(ring))
    v2.open_sync()  # old one moved aside, a new key made
    assert len(ring.items) == 2
    await v2.forget_everything()
    assert ring.items == {}
    assert list(paths.data_dir.glob("vault.bin*")) == []
    await v2.put("b", {"v": 2})  # a new vault, new key
    assert len(ring.items) == 1


async def test_put_many_is_one_write(paths: AppPaths, key: bytes) -> None:
    v = _open(paths, key)
    await v.put("keep", {"v": 0})
    inode = paths.vault_file.stat().st_ino
    await v.put_many({f"t/{i}": {"i": i} for i in range(10)})
    assert paths.vault_file.stat().st_ino != inode
    assert await _open(paths, key).names() == ["keep", *sorted(f"t/{i}" for i in range(10))]
    with pytest.raises(ValueError):
        await v.put_many({"": {}})
