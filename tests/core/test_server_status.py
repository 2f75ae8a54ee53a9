"""A server's stored status as a typed value (core/server_status.py, core/registry.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mcp_auth_desktop.core.mcp.era import ProtocolEra
from mcp_auth_desktop.core.mcp.memory import McpMemory
from mcp_auth_desktop.core.registry import Registry
from mcp_auth_desktop.core.server_status import ServerStatus, apply_to_stored
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault


def test_a_stored_entry_reads_back_as_written() -> None:
    era = ProtocolEra.legacy("2025-11-25")
    status = (ServerStatus().signed_in(("read", "write")).refreshed(12.5, "ok")
              .remembering(McpMemory(era)).needs_sign_in("expired"))
    stored: dict[str, object] = {}
    apply_to_stored(stored, lambda _: status)
    assert stored == {
        "sign_in_needed": True, "last_error": "expired", "requested_scopes": ["read", "write"],
        "last_refresh_at": 12.5, "last_refresh_result": "ok", "mcp_protocol": {"era": era.to_dict()},
    }
    assert ServerStatus.from_json(stored) == status


def test_the_status_is_frozen() -> None:
    status = ServerStatus()
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.revoked = True  # type: ignore[misc]
    assert status.client_is_stale() is not status and not status.stale_client


def test_a_change_writes_only_its_own_fields() -> None:
    # Another process's fields, a key of a newer version and an unparsable hand edit survive.
    stored: dict[str, Any] = {"last_refresh_at": 5, "future_key": [1], "last_error": 42,
                              "pending_revocation": True}
    apply_to_stored(stored, ServerStatus.client_is_stale)
    assert stored == {"last_refresh_at": 5, "future_key": [1], "last_error": 42,
                      "pending_revocation": True, "stale_client": True}
    apply_to_stored(stored, lambda st: st.signed_in(()))
    assert stored == {"last_refresh_at": 5, "future_key": [1], "last_error": 42,
                      "pending_revocation": True, "requested_scopes": []}
    apply_to_stored(stored, lambda st: st.needs_sign_in("refused"))
    assert stored["last_error"] == "refused" and stored["sign_in_needed"] is True


def test_junk_reads_as_unset() -> None:
    junk = {"sign_in_needed": 0, "last_error": ["x"], "requested_scopes": "read",
            "last_refresh_at": True, "mcp_protocol": "x"}
    assert ServerStatus.from_json(junk) == ServerStatus()
    assert ServerStatus.from_json("not an object") == ServerStatus()
    assert ServerStatus.from_json({"requested_scopes": ["a", 3, "b"]}).requested_scopes == ("a", "b")


def test_a_revocation_keeps_an_earlier_pending_one() -> None:
    pending = ServerStatus().revoked_here(pending=True)
    assert pending.pending_revocation and pending.revoked
    again = pending.signed_in(("s",)).revoked_here(pending=False)
    assert again.pending_revocation and again.revoked and not again.sign_in_needed
    assert not again.revocation_completed().pending_revocation


async def test_the_registry_applies_a_change_to_the_document_as_stored_now() -> None:
    settings = MemorySettings()
    registry = Registry(settings, MemoryVault())
    await registry.update_status("a", lambda st: st.refreshed(1.0, "ok"))

    def elsewhere(doc: dict[str, Any]) -> None:  # another process, between our read and write
        doc["server_status"]["a"]["revoked"] = True

    await settings.update(elsewhere)
    await registry.update_status("a", lambda st: st.needs_sign_in("gone"))
    doc = await settings.load()
    assert doc["server_status"]["a"] == {
        "last_refresh_at": 1.0, "last_refresh_result": "ok", "revoked": True,
        "sign_in_needed": True, "last_error": "gone",
    }
