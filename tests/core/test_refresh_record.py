"""The last refresh as every process sees it (core/refresh_record.py)."""

from __future__ import annotations

from mcp_auth_desktop.core.refresh_record import last_refresh
from mcp_auth_desktop.core.server_status import ServerStatus


def test_the_newer_record_wins() -> None:
    stored = ServerStatus().refreshed(100.0, "ok")
    assert last_refresh(None, None, ServerStatus()) == (None, None)
    assert last_refresh(None, None, stored) == (100.0, "ok")  # another process refreshed
    assert last_refresh(90.0, "will retry", stored) == (100.0, "ok")
    assert last_refresh(110.0, "failed", stored) == (110.0, "failed")  # ours is newer


def test_a_damaged_record_is_ignored() -> None:
    for bad in ({"last_refresh_at": "yesterday"}, {"last_refresh_at": True},
                {"last_refresh_at": None, "last_refresh_result": "ok"}):
        assert last_refresh(5.0, "ok", ServerStatus.from_json(bad)) == (5.0, "ok")
    damaged = ServerStatus.from_json({"last_refresh_at": 7, "last_refresh_result": 3})
    assert last_refresh(None, None, damaged) == (7.0, None)
