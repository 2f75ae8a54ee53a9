"""The direct Secret Service read (storage/secret_service.py) against the real gnome-keyring.

It must return exactly what ``keyring.get_password`` returns for items that
``keyring`` stored (same collection, same attributes), None for an absent
item, and refuse to answer (SecretServiceMiss, never a prompt) when it cannot.
"""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from mcp_auth_desktop.storage import secret_service
from mcp_auth_desktop.storage.secret_service import SecretServiceMiss, read_secret

pytestmark = pytest.mark.keyring


@pytest.mark.parametrize("value", ["a", "välue with spaces ✓", "x" * 15, "y" * 16, "z" * 300])
def test_reads_what_keyring_stored(value: str) -> None:
    keyring.set_password("mcp-auth-desktop-test", "direct-read", value)
    try:
        assert read_secret("mcp-auth-desktop-test", "direct-read") == value
        assert keyring.get_password("mcp-auth-desktop-test", "direct-read") == value
    finally:
        keyring.delete_password("mcp-auth-desktop-test", "direct-read")
    assert read_secret("mcp-auth-desktop-test", "direct-read") is None


def test_only_the_exact_service_and_user_match() -> None:
    keyring.set_password("mcp-auth-desktop-test", "user-a", "A")
    try:
        assert read_secret("mcp-auth-desktop-test", "user-b") is None
        assert read_secret("mcp-auth-desktop-other", "user-a") is None
    finally:
        keyring.delete_password("mcp-auth-desktop-test", "user-a")


def test_no_session_bus_is_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    with pytest.raises(SecretServiceMiss):
        read_secret("mcp-auth-desktop-test", "x", timeout=1.0)


def test_usable_only_when_keyring_would_choose_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert secret_service.usable_here()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    assert not secret_service.usable_here()
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    (tmp_path / "python_keyring").mkdir()
    (tmp_path / "python_keyring" / "keyringrc.cfg").write_text("[backend]\ndefault-keyring=x\n")
    assert not secret_service.usable_here()
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    assert not secret_service.usable_here()
