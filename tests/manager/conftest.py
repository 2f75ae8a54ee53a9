"""Fixtures: a manager on memory storage with a fake clock and a fake OAuth client."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ManagerEvent
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.manager.fakes import FakeClock, FakeOAuth
from tests.mock.helpers import MockProcess, start_mock_process

URL = "https://mcp.example/mcp"


class Harness:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.oauth = FakeOAuth(self.clock)
        self.vault = MemoryVault()
        self.settings = MemorySettings()
        self.http = httpx.AsyncClient()
        self.events: list[ManagerEvent] = []
        self.managers: list[TokenManager] = []

    def manager(self, **kw: object) -> TokenManager:
        m = TokenManager(
            http=self.http,
            vault=self.vault,
            settings=self.settings,
            clock=self.clock,
            oauth=self.oauth,
            rng=random.Random(7),
            **kw,  # type: ignore[arg-type]
        )
        m.subscribe(self.events.append)
        self.managers.append(m)
        return m

    def of(self, kind: type) -> list[ManagerEvent]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = Harness()
    yield harness
    for m in harness.managers:
        await m.aclose()
    await harness.http.aclose()


@pytest.fixture
async def signed_in(h: Harness) -> AsyncIterator[tuple[Harness, TokenManager, str]]:
    m = h.manager()
    await m.start(background=False)
    view = await m.add_server(URL, name="alpha", options=ServerOptions())
    await m.sign_in("alpha")
    yield h, m, view.id


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProcess]:
    """The mock server as a real process (auto-approve), shared by a test module."""
    proc = start_mock_process("--auto-approve", "--access-token-ttl", "600")
    try:
        yield proc
    finally:
        proc.stop()
