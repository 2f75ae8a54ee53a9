"""When the background loop wakes: at the next due time, never late, never spinning.

The loop runs for real (``start()`` with the background task) on the fake
clock; only its sleep is replaced by :class:`ParkedSleep`, which records how
long the loop asked to sleep and lets the test decide when that time has
passed. A wake-up from the manager (a refresh ended, new tokens) still ends
the sleep early, as it does for real.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from mcp_auth_desktop.core import manager as manager_module
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import CredentialKey, ServerOptions
from mcp_auth_desktop.storage.paths import app_paths
from mcp_auth_desktop.storage.settings import FileSettings
from tests.manager.conftest import URL, Harness
from tests.manager.fakes import FakeClock


class ParkedSleep:
    """Stands in for ``TokenManager._sleep_until_woken`` on the fake clock."""

    def __init__(self, m: TokenManager, clock: FakeClock) -> None:
        self._m = m
        self._clock = clock
        self.requests: list[float] = []
        self._deadline: float | None = None
        self._release = asyncio.Event()
        m._sleep_until_woken = self.sleep  # type: ignore[method-assign]

    async def sleep(self, seconds: float) -> None:
        self.requests.append(seconds)
        self._deadline = self._clock.time() + seconds
        self._release = asyncio.Event()
        woken = asyncio.ensure_future(self._m._wake.wait())
        released = asyncio.ensure_future(self._release.wait())
        try:
            await asyncio.wait({woken, released}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            released.cancel()
            self._deadline = None

    @property
    def parked(self) -> bool:
        return self._deadline is not None

    async def settle(self, *, after: int = 0) -> None:
        """Let the loop and the tasks it started run until the loop sleeps again.

        ``after``: the loop must have asked for more than that many sleeps in all.
        """
        for _ in range(500):
            await asyncio.sleep(0)
            if (len(self.requests) > after and self.parked and not self._m._wake.is_set()
                    and not any(s.refresh_task is not None and not s.refresh_task.done()
                                for s in self._m._servers.values())):
                return
        raise AssertionError("the background loop did not go back to sleep")

    async def advance(self, seconds: float, *, settle: bool = True) -> None:
        """Move the fake clock; end the loop's sleep if it asked for no longer than that."""
        self._clock.advance(seconds)
        asked = len(self.requests)
        released = self._deadline is not None and self._clock.time() >= self._deadline
        if released:
            self._release.set()
        if settle:
            await self.settle(after=asked if released else 0)
        else:
            for _ in range(500):
                if not released or len(self.requests) > asked:
                    break
                await asyncio.sleep(0)


async def started(h: Harness, lifetime: float) -> tuple[TokenManager, ParkedSleep, str]:
    h.oauth.lifetime = lifetime
    m = h.manager()
    sleeper = ParkedSleep(m, h.clock)
    await m.start()
    view = await m.add_server(URL, name="short", options=ServerOptions())
    await m.sign_in(view.id)
    await sleeper.settle()
    return m, sleeper, view.id


async def test_short_lived_tokens_are_refreshed_at_their_due_time_not_after_the_check_interval(
    h: Harness,
) -> None:
    # 40 s tokens: refreshed 15-20 s after issue (half the lifetime, minus jitter).
    expired_at_refresh: list[bool] = []
    m, sleeper, sid = await started(h, 40.0)
    h.oauth.on_refresh = lambda: expired_at_refresh.append(
        h.clock.time() >= (m.get(sid).expires_at or 0)
    )
    assert sleeper.requests[-1] <= 20.0
    for n in range(1, 6):
        await sleeper.advance(sleeper.requests[-1] + 0.001)
        assert h.oauth.refresh_calls == n
        # After each refresh the loop sleeps until the next due time, well under 30 s.
        assert 15.0 - 1e-6 <= sleeper.requests[-1] <= 20.0
    assert expired_at_refresh == [False] * 5


async def test_new_tokens_from_a_refresh_the_loop_did_not_run_wake_it(
    h: Harness, tmp_path: Path
) -> None:
    # The real settings file: it does not report this process's own writes back to it,
    # so nothing but the new tokens themselves can tell the sleeping loop.
    paths = app_paths(tmp_path / "home")
    paths.ensure()
    h.settings = FileSettings(paths)  # type: ignore[assignment]
    # Hour-long tokens: the loop sleeps the full check interval.
    m, sleeper, sid = await started(h, 3600.0)
    assert sleeper.requests[-1] == manager_module.WAKE_CHECK_INTERVAL
    # The server now issues 40 s tokens; a Refresh button (not the loop) gets one.
    h.oauth.lifetime = 40.0
    asleep_for = len(sleeper.requests)
    await m.refresh(sid)
    await sleeper.settle()
    # The loop woke and now sleeps only until the new, earlier due time...
    assert len(sleeper.requests) > asleep_for
    assert sleeper.requests[-1] <= 20.0
    # ...so the token is refreshed before it expires, not when the 30 s are up.
    await sleeper.advance(sleeper.requests[-1] + 0.001)
    assert h.oauth.refresh_calls == 2
    assert h.clock.time() < (m.get(sid).expires_at or 0)


async def test_an_overdue_refresh_that_cannot_start_does_not_make_the_loop_spin(
    h: Harness,
) -> None:
    m, sleeper, sid = await started(h, 40.0)
    view = m.get(sid)
    key = CredentialKey(view.issuer, view.client_id, view.resource)
    # Another process holds this server's refresh lock while the refresh falls due.
    async with h.vault.lock(key.storage_name()):
        await sleeper.advance(sleeper.requests[-1] + 0.001, settle=False)
        for _ in range(20):
            await asyncio.sleep(0)
        assert h.oauth.refresh_calls == 0
        waiting = sleeper.requests[-1]
        assert waiting >= manager_module.MIN_WAKE_DELAY
    # Once the lock is free the waiting refresh goes through and the loop sleeps long again.
    await sleeper.settle()
    assert h.oauth.refresh_calls == 1
    assert sleeper.requests[-1] >= 15.0 - 1e-6


async def test_the_next_wake_is_the_earliest_of_refreshes_and_revocation_retries(
    h: Harness,
) -> None:
    m, sleeper, _sid = await started(h, 3600.0)
    now = h.clock.time()
    m._revocation_next_try["revocations/x"] = now + 7.0
    assert m._next_wake() == 7.0
    m._revocation_next_try["revocations/x"] = now - 100.0  # overdue, retry failing
    assert m._next_wake() == manager_module.MIN_WAKE_DELAY
    m._revocation_next_try.clear()
    assert m._next_wake() == manager_module.WAKE_CHECK_INTERVAL
