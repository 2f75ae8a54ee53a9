"""A keyring vault's key is read straight from the Secret Service at start, without
``import keyring`` (storage/keys/os_keyring.py ``_read_directly``), against the real
gnome-keyring that scripts/headless.sh starts.

``keyring`` loads every backend and the metadata of every installed distribution: some
6 MiB resident in the desktop app (issue 17). The direct read may only ever return the
key that opens the vault; every other answer leaves the decision to ``keyring`` as before.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from mcp_auth_desktop.storage import open_storage
from mcp_auth_desktop.storage.keys import KEYRING_SERVICE
from mcp_auth_desktop.storage.keys.os_keyring import _read_directly
from mcp_auth_desktop.storage.vault import read_header

pytestmark = pytest.mark.keyring

_REOPEN = """
import asyncio, json, sys
from mcp_auth_desktop.storage import open_storage
vault, _ = open_storage()
secret = asyncio.run(vault.get("server-1"))
print(json.dumps({"keyring": "keyring" in sys.modules, "source": vault.location.key_source,
                  "secret": secret, "corrupt": vault.corruption is not None}))
"""


def _reopen(home: Path, **env: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _REOPEN], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "MCP_AUTH_DESKTOP_HOME": str(home), **env}, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.fixture
async def keyring_vault(home: Path) -> tuple[Path, str]:
    """A vault whose key is in the real Secret Service, holding one entry; its key item name."""
    vault, _ = open_storage(home)
    assert vault.location.key_source == "keyring"
    await vault.put("server-1", {"refresh_token": "RT-1"})
    await vault.aclose()
    header = read_header(home / "vault.bin")
    assert header is not None
    return home, f"vault-key-{header['key_id']}"


async def test_an_existing_keyring_vault_opens_without_importing_keyring(
    keyring_vault: tuple[Path, str],
) -> None:
    home, _ = keyring_vault
    seen = _reopen(home)
    assert seen == {"keyring": False, "source": "keyring", "secret": {"refresh_token": "RT-1"},
                    "corrupt": False}


async def test_where_keyring_chooses_its_backend_itself_keyring_is_asked(
    keyring_vault: tuple[Path, str],
) -> None:
    home, _ = keyring_vault
    # A keyring choice made by the user: the direct read does not guess; keyring reads it.
    seen = _reopen(home, PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring")
    assert seen == {"keyring": True, "source": "keyring", "secret": {"refresh_token": "RT-1"},
                    "corrupt": False}


async def test_only_the_key_that_opens_the_vault_is_taken(keyring_vault: tuple[Path, str]) -> None:
    home, user = keyring_vault
    header = read_header(home / "vault.bin")
    assert header is not None
    stored = keyring.get_password(KEYRING_SERVICE, user)
    assert stored is not None and len(base64.b64decode(stored)) == 32
    assert _read_directly(KEYRING_SERVICE, user, header, 5.0) == base64.b64decode(stored)
    # Another vault's header (another key check), an absent item, a damaged item: no answer.
    other = {**header, "key_check": base64.b64encode(b"\0" * 16).decode()}
    assert _read_directly(KEYRING_SERVICE, user, other, 5.0) is None
    assert _read_directly(KEYRING_SERVICE, "vault-key-" + "0" * 32, header, 5.0) is None
    keyring.set_password(KEYRING_SERVICE, user, "not base64!")
    try:
        assert _read_directly(KEYRING_SERVICE, user, header, 5.0) is None
    finally:
        keyring.set_password(KEYRING_SERVICE, user, stored)
    # With the right key back, a fresh start opens the vault as before.
    assert _reopen(home)["secret"] == {"refresh_token": "RT-1"}
