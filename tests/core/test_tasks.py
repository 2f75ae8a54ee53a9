"""core/tasks.py: an owner's tasks end with it, and what they raise while ending is swallowed."""

from __future__ import annotations

import asyncio

from mcp_auth_desktop.core.tasks import cancel_and_wait


async def test_every_task_is_cancelled_and_finished_before_it_returns() -> None:
    cleaned: list[str] = []

    async def sleeper(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits still runs to its end
            cleaned.append(name)

    async def fails() -> None:
        raise RuntimeError("already broken")

    async def refuses_to_die() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ValueError("error while ending") from None

    tasks = [asyncio.ensure_future(sleeper("a")), asyncio.ensure_future(sleeper("b")),
             asyncio.ensure_future(fails()), asyncio.ensure_future(refuses_to_die())]
    await asyncio.sleep(0)  # all started; `fails` has failed
    await cancel_and_wait(tasks)
    assert all(t.done() for t in tasks)
    assert sorted(cleaned) == ["a", "b"]
    assert tasks[0].cancelled() and tasks[1].cancelled()
    assert isinstance(tasks[2].exception(), RuntimeError)
    assert isinstance(tasks[3].exception(), ValueError)


async def test_nothing_to_end() -> None:
    await cancel_and_wait([])
