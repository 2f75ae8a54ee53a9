"""The last refresh of a server, kept in the settings' status so every process sees it.

The process that refreshed knows the time and the result in memory; the app's
window, ``mcp-auth status`` in another terminal, or the app after a restart
only see what was written down. The newer of the two is the truth.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from mcp_auth_desktop.core.server_status import ServerStatus, StatusChange

__all__ = ["last_refresh", "RefreshRecorder"]

log = logging.getLogger(__name__)

#: How long closing waits for pending records (a stuck disk must not hold up quitting).
_DRAIN_SECONDS = 5.0


def last_refresh(at: float | None, result: str | None,
                 status: ServerStatus) -> tuple[float | None, str | None]:
    """The newer of this process's last refresh and the one written down by any process."""
    stored_at = status.last_refresh_at
    if stored_at is None or (at is not None and at >= stored_at):
        return at, result
    return stored_at, status.last_refresh_result


class _StatusWriter(Protocol):
    async def update_status(self, server_id: str, change: StatusChange) -> None: ...


class RefreshRecorder:
    """Writes refresh records in the background of the refreshes.

    A refresh never waits for, nor fails because of, the settings file (the tokens
    are already saved); but the records still pending are written before the manager
    closes, so a one-shot ``mcp-auth refresh`` leaves its record for the app to see.
    """

    def __init__(self, registry: _StatusWriter) -> None:
        self._registry = registry
        self._pending: set[asyncio.Task[None]] = set()

    def record(self, server_id: str, at: float, result: str) -> None:
        task = asyncio.ensure_future(self._write(server_id, at, result))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, server_id: str, at: float, result: str) -> None:
        try:
            await self._registry.update_status(server_id, lambda st: st.refreshed(at, result))
        except Exception as exc:  # noqa: BLE001 - a display record; the refresh itself stands
            log.info("could not record the refresh of %s: %s", server_id, type(exc).__name__)

    async def drain(self) -> None:
        """Let the pending writes finish (bounded: a stuck disk does not hold up quitting)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=_DRAIN_SECONDS)
