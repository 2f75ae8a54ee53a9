"""The background loop's steps: due refreshes, clock jumps, the next wake."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.manager import loading, refresh, revocation
from mcp_auth_desktop.core.manager.record import (
    MIN_WAKE_DELAY,
    WAKE_CHECK_INTERVAL,
    S,
    ServerRecord,
)
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.scheduler import backoff_delay

log = logging.getLogger("mcp_auth_desktop.core.manager")


async def run_due(m: ManagerState) -> None:
    """Start every refresh that is due now and wait for them (the loop's step; tests call it)."""
    await check_clock(m)
    for task in launch_due(m):
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await revocation.retry_pending(m, only_due=True)


async def check_clock(m: ManagerState) -> None:
    """After a suspend or a clock change, re-read storage and re-check every schedule.

    Due times are absolute wall-clock times, so after a jump the ordinary
    "is it due" test is already right; what may be stale is what we know:
    another process may have refreshed while this one slept.
    """
    jump = m._jumps.observe(m._clock.time(), m._clock.monotonic())
    if jump is None:
        return
    log.info(
        "wall clock moved %+.0f s against the monotonic clock (sleep or clock change); "
        "re-checking every server",
        jump,
    )
    m._note(None, "info", f"Clock jump of {jump:+.0f} s detected; re-checking servers.")
    for s in m._servers.values():
        s.failures = 0  # the network that failed before the sleep may be back
    await loading.reconcile(m, await m._settings.load())


def launch_due(m: ManagerState) -> list[asyncio.Task[None]]:
    now = m._clock.time()
    started: list[asyncio.Task[None]] = []
    for s in m._servers.values():
        if s.state not in (S.SIGNED_IN, S.ERROR) or s.due_at is None or s.due_at > now:
            continue
        if s.busy:
            continue
        if s.refresh_task is not None and not s.refresh_task.done():
            continue
        task = m._spawn(background_refresh(m, s), f"refresh:{s.config.id}")
        s.refresh_task = task
        started.append(task)
    return started


async def background_refresh(m: ManagerState, s: ServerRecord) -> None:
    try:
        await refresh.refresh(m, s, force=True, min_ttl=0.0, seen_fp=s.token_fp or "-")
    except errors.McpAuthError as exc:
        log.debug("background refresh of %s ended: %s", s.config.name, exc.user_message)
    except Exception:
        log.exception("unexpected failure refreshing %s", s.config.name)
        s.due_at = m._clock.time() + backoff_delay(max(1, s.failures), rng=m._rng)
    finally:
        # The loop chose its sleep while this ran; the new due time may be sooner.
        m._wake.set()


def next_wake(m: ManagerState) -> float:
    """Seconds until the earliest refresh or revocation retry is due.

    At most :data:`WAKE_CHECK_INTERVAL` (clock-jump checks), at least
    :data:`MIN_WAKE_DELAY` (no spinning on something overdue that cannot start).
    """
    now = m._clock.time()
    delay = WAKE_CHECK_INTERVAL
    for s in m._servers.values():
        if s.due_at is not None and s.state in (S.SIGNED_IN, S.ERROR):
            delay = min(delay, s.due_at - now)
    for when in m._revocation_next_try.values():
        delay = min(delay, when - now)
    return max(MIN_WAKE_DELAY, delay)
