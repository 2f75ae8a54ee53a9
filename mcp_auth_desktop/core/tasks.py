"""Ending background tasks when their owner closes.

Every owner of tasks (the token manager, the bridge session) ends them the same
way: cancel all, then wait for each, so none outlives its owner and none is
finalised later in another task; what they raise while ending is not news.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel every task, then wait for each to finish; their errors and cancellation are swallowed."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
