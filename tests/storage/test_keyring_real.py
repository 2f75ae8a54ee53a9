"""Against the real Secret Service (gnome-keyring from scripts/headless.sh)."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from mcp_auth_desktop.storage import open_storage
from mcp_auth_desktop.storage.keys import KEYRING_SERVICE
from mcp_auth_desktop.storage.vault import read_header

from .fakes import CountingProxy

pytestmark = pytest.mark.keyring


async def test_key_item_lifecycle_and_one_read_per_start(home: Path) -> None:
    vault, _ = open_storage()
    header = read_header(home / "vault.bin")
    assert header is not None and header["key_source"] == "keyring"
    user = f"vault-key-{header['key_id']}"
    assert keyring.get_password(KEYRING_SERVICE, user) is not None
    for i in range(20):
        await vault.put(f"tokens/{i}", {"refresh_token": f"rt-{i}"})

    counting = CountingProxy(keyring.get_keyring())
    again, _ = open_storage(keyring_backend=counting)
    for i in range(20):
        assert await again.get(f"tokens/{i}") == {"refresh_token": f"rt-{i}"}
    assert counting.calls == {"get": 1}

    await again.forget_everything()
    assert keyring.get_password(KEYRING_SERVICE, user) is None
    assert not (home / "vault.bin").exists()
