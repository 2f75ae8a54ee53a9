"""The persistent audit trail: JSON lines, owner-only, rotated, never raising, never forging lines."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from mcp_auth_desktop.core.state import (
    LogEvent,
    RevocationReport,
    ServerRemoved,
    ServerState,
    StateChanged,
    TokensRefreshed,
)
from mcp_auth_desktop.storage.audit import AuditLog


def test_events_become_json_lines_in_an_owner_only_file(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.log")
    audit.record(StateChanged("s1", 1.0, old=ServerState.SIGNING_IN, new=ServerState.SIGNED_IN))
    audit.record(TokensRefreshed("s1", 2.0, expires_at=3600.0, rotated=True))
    audit.record(ServerRemoved("s1", 3.0, name="one", report=RevocationReport(
        supported=True, refresh_token_revoked=True, access_token_revoked=True)))
    audit.note("s1", "access token copied")
    entries = audit.read()
    assert [e["event"] for e in entries] == ["StateChanged", "TokensRefreshed", "ServerRemoved", "Note"]
    assert entries[0]["new"] == "signed in" and entries[1]["rotated"] is True
    assert entries[2]["report"]["refresh_token_revoked"] is True
    assert stat.S_IMODE((tmp_path / "audit.log").stat().st_mode) == 0o600


def test_server_text_cannot_forge_a_line(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.log")
    audit.record(LogEvent("s1", 1.0, level="info", message='ok\n{"event": "Forged"}'))
    lines = (tmp_path / "audit.log").read_text().splitlines()
    assert len(lines) == 1 and audit.read()[0]["event"] == "LogEvent"


def test_rotation_keeps_a_bounded_number_of_files(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.log", max_bytes=300, keep=2)
    for i in range(60):
        audit.note("s1", f"copy number {i}")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["audit.log", "audit.log.1", "audit.log.2"]
    assert all(p.stat().st_size < 600 for p in tmp_path.iterdir())
    assert audit.read()[-1]["message"] == "copy number 59"


def test_a_write_failure_is_logged_once_and_never_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    audit = AuditLog(tmp_path / "missing-dir" / "audit.log")
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            audit.note("s1", "access token copied")
    warnings = [r for r in caplog.records if "audit log" in r.getMessage()]
    assert len(warnings) == 1
