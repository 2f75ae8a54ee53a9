"""File and folder safety: modes under any umask, symlinks, foreign owners, open parents."""
# ruff: noqa: ASYNC240  (tests inspect small files directly; blocking is fine here)

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_auth_desktop.core.errors import UnsafePathError
from mcp_auth_desktop.storage import open_storage
from mcp_auth_desktop.storage.atomic import atomic_write
from mcp_auth_desktop.storage.paths import app_paths, ensure_private_dir

from .fakes import DictKeyring


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def test_new_files_are_private_even_with_umask_000(tmp_path: Path, umask_000: None) -> None:
    home = tmp_path / "a" / "home"
    vault, settings = open_storage(home, keyring_backend=DictKeyring())
    await vault.put("x", {"v": 1})
    await settings.update(lambda d: d.update(servers=[]))
    assert _mode(home) == 0o700
    assert _mode(home / "locks") == 0o700
    for name in ("vault.bin", "settings.json", "vault.lock", "settings.lock"):
        assert _mode(home / name) == 0o600, name
    for lock in (home / "locks").iterdir():
        assert _mode(lock) == 0o600


def test_open_existing_file_and_folder_are_tightened(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    (home / "settings.json").write_text('{"schema_version": 1}')
    os.chmod(home / "settings.json", 0o644)
    vault, settings = open_storage(home, keyring_backend=DictKeyring())
    assert _mode(home) == 0o700
    # A 0644 file made by hand or an older tool is re-chmodded on first use.
    import asyncio

    asyncio.run(settings.load())
    assert _mode(home / "settings.json") == 0o600


def test_symlinked_vault_is_refused(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "attacker-file"
    elsewhere.write_bytes(b"original")
    (home / "vault.bin").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError) as info:
        open_storage(keyring_backend=DictKeyring())
    assert "symbolic link" in str(info.value)
    assert elsewhere.read_bytes() == b"original"


def test_atomic_write_refuses_symlink_target(tmp_path: Path) -> None:
    target = tmp_path / "real"
    target.write_bytes(b"keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(UnsafePathError):
        atomic_write(link, b"new")
    assert target.read_bytes() == b"keep" and link.is_symlink()


async def test_symlinked_settings_is_refused(home: Path, tmp_path: Path) -> None:
    vault, settings = open_storage(keyring_backend=DictKeyring())
    other = tmp_path / "other.json"
    other.write_text('{"schema_version": 1}')
    (home / "settings.json").symlink_to(other)
    with pytest.raises(UnsafePathError):
        await settings.update(lambda d: d.update(x=1))
    assert other.read_text() == '{"schema_version": 1}'


def test_symlinked_home_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UnsafePathError):
        open_storage(link, keyring_backend=DictKeyring())


def test_world_writable_parent_is_refused(tmp_path: Path) -> None:
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(parent, 0o777)
    with pytest.raises(UnsafePathError) as info:
        ensure_private_dir(parent / "home")
    assert "writable by every user" in str(info.value)
    assert not (parent / "home").exists()
    # With the sticky bit (like /tmp) others cannot rename our folder away: allowed.
    os.chmod(parent, 0o1777)
    ensure_private_dir(parent / "home")
    assert _mode(parent / "home") == 0o700


def test_foreign_owner_is_refused(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    open_storage(keyring_backend=DictKeyring())
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 4242)  # as if another user owned it
    with pytest.raises(UnsafePathError) as info:
        open_storage(keyring_backend=DictKeyring())
    assert "belongs to another user" in str(info.value)


def test_a_file_where_the_home_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("not a folder")
    with pytest.raises(UnsafePathError):
        app_paths(tmp_path / "home").ensure()
