"""The last refresh as every process sees it (core/refresh_record.py)."""

from __future__ import annotations

from mcp_auth_desktop.core.refresh_record import last_refresh, refresh_record


def test_the_newer_record_wins() -> None:
    stored = refresh_record(100.0, "ok")
    assert last_refresh(None, None, {}) == (None, None)
    assert last_refresh(None, None, stored) == (100.0, "ok")  # another process refreshed
    assert last_refresh(90.0, "will retry", stored) == (100.0, "ok")
    assert last_refresh(110.0, "failed", stored) == (110.0, "failed")  # ours is newer


def test_a_damaged_record_is_ignored() -> None:
    for bad in ({"last_refresh_at": "yesterday"}, {"last_refresh_at": True},
                {"last_refresh_at": None, "last_refresh_result": "ok"}):
        assert last_refresh(5.0, "ok", bad) == (5.0, "ok")
    assert last_refresh(None, None, {"last_refresh_at": 7, "last_refresh_result": 3}) == (7.0, None)
