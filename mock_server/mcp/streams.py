"""Answering one request as JSON, or as an SSE stream that carries the request's
notifications (and, in the handshake era, the server's own requests) before the response.

Closing the stream cancels the work (2026-07-28: the disconnect is the cancellation)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from mock_server.mcp.protocol import INTERNAL_ERROR, SSE_HEADERS, RpcError, sse_event

Emit = Callable[[dict[str, Any]], Awaitable[None]]
Work = Callable[[Emit], Awaitable[dict[str, Any]]]
"""Does the request's work; emits notifications/requests; returns the final JSON-RPC message."""


async def _final(work: Work, emit: Emit, id_: Any) -> dict[str, Any]:
    try:
        return await work(emit)
    except RpcError as exc:
        return exc.body(id_)


async def answer_json(work: Work, id_: Any, headers: Mapping[str, str] | None = None) -> Response:
    async def drop(_: dict[str, Any]) -> None:
        return None

    try:
        message = await work(drop)
    except RpcError as exc:
        return JSONResponse(exc.body(id_), status_code=exc.status, headers=dict(headers or {}))
    return JSONResponse(message, headers=dict(headers or {}))


def answer_sse(
    work: Work,
    id_: Any,
    *,
    stream_id: str = "1",
    headers: Mapping[str, str] | None = None,
    prime: bool = False,
    close_early: Callable[[asyncio.Task[dict[str, Any]]], None] | None = None,
) -> Response:
    """Stream the work's messages. ``close_early`` (SEP-1699 polling): after a priming event
    the stream ends at once and the task's result is handed to ``close_early`` for replay."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def emit(message: dict[str, Any]) -> None:
        await queue.put(message)

    async def events() -> AsyncIterator[str]:
        counter = 0
        task = asyncio.ensure_future(_final(work, emit, id_))
        try:
            if prime or close_early is not None:
                yield sse_event(None, event_id=f"{stream_id}-0", retry_ms=500)
            if close_early is not None:
                close_early(task)
                task = None  # type: ignore[assignment]  # now owned by the replay
                return
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    counter += 1
                    yield sse_event(getter.result(), event_id=f"{stream_id}-{counter}")
                    continue
                getter.cancel()
                while not queue.empty():
                    counter += 1
                    yield sse_event(queue.get_nowait(), event_id=f"{stream_id}-{counter}")
                counter += 1
                try:
                    final = task.result()
                except Exception:  # noqa: BLE001 - a crash becomes a JSON-RPC error, not a dropped stream
                    final = RpcError(INTERNAL_ERROR, "Internal error").body(id_)
                yield sse_event(final, event_id=f"{stream_id}-{counter}")
                return
        finally:
            if task is not None and not task.done():
                task.cancel()

    return StreamingResponse(events(), media_type="text/event-stream", headers={**SSE_HEADERS, **(headers or {})})
