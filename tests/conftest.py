"""Shared test set-up: unexpected WARNING logs fail the test; isolated app home."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Property tests explore new random examples on every developer run; CI replays a fixed,
# derandomised sequence so that a landing is reproducible (a new counterexample found
# locally is kept in .hypothesis/ and fixed, not discovered by chance in CI).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


class _LogFailHandler(logging.Handler):
    """Records WARNING+ records so a test fails on any it did not expect."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _fail_on_unexpected_warnings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test on WARNING logs unless it is marked ``allow_warning_logs``
    or consumed them with ``caplog``."""
    handler = _LogFailHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    if request.node.get_closest_marker("allow_warning_logs") or "caplog" in request.fixturenames:
        return
    ours = [r for r in handler.records if r.name.split(".")[0] in ("mcp_auth_desktop", "mock_server")]
    if ours:
        lines = "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in ours)
        pytest.fail(f"unexpected warning logs:\n{lines}")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own MCP_AUTH_DESKTOP_HOME, never the user's real data."""
    home = tmp_path_factory.mktemp("app-home")
    home.chmod(0o700)
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(home))
