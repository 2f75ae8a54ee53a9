"""The mock server process the CLI tests sign in at (a module may define its own ``mock``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mock.helpers import MockProcess, running_mock


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProcess]:
    """The mock server, approving every sign-in by itself."""
    with running_mock("--auto-approve") as proc:
        yield proc
