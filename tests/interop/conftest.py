"""Interop suite: writes docs/compatibility.md from the recorded step results at session end."""

from __future__ import annotations

import pytest

from tests.interop.report import write_if_complete
from tests.interop.servers import ROOT, SERVER_KEYS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_if_complete(ROOT / "docs" / "compatibility.md", SERVER_KEYS)
