"""The tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663) on MCP 2026-07-28.

A task-supporting tool's handler returns ``StartTask(body)``. When the request declares the
extension in its client capabilities, the server runs ``body`` in the background and answers
at once with a flat CreateTaskResult (``resultType: "task"``, ``taskId``, ``status``, times,
``ttlMs``, ``pollIntervalMs``); the client polls ``tasks/get`` (DetailedTask: ``result`` once
completed, ``error`` once failed, ``inputRequests`` while ``input_required``), answers input
with ``tasks/update`` and stops work with ``tasks/cancel`` (both acknowledged with an empty
result). Without the extension an ``optional`` tool runs synchronously and a ``required`` one
is refused with -32021. Tasks belong to the user who created them; another user's id is
unknown (-32602).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mock_server.mcp.protocol import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    MISSING_CLIENT_CAPABILITY,
    RpcError,
)

EXTENSION = "io.modelcontextprotocol/tasks"
TTL_MS = 300_000
POLL_MS = 200
MAX_TASKS = 1000
TERMINAL = ("completed", "failed", "cancelled")


class TaskFailed(Exception):
    """A protocol-level failure inside a task: status ``failed`` with ``error``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Task:
    task_id: str
    subject: str
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    status: str = "working"
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task[None] | None = None

    def touch(self, status: str | None = None) -> None:
        if status is not None:
            self.status = status
        self.updated = time.time()

    def envelope(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "status": self.status,
            "createdAt": _iso(self.created),
            "lastUpdatedAt": _iso(self.updated),
            "ttlMs": TTL_MS,
            "pollIntervalMs": POLL_MS,
        }

    def detailed(self) -> dict[str, Any]:
        body = self.envelope()
        if self.status == "completed" and self.result is not None:
            body["result"] = self.result
        if self.status == "failed" and self.error is not None:
            body["error"] = self.error
        if self.status == "input_required":
            body["inputRequests"] = dict(self.pending)
        return body


class TaskContext:
    """What a task body can do: ask the client for input (answered through tasks/update)."""

    def __init__(self, task: Task | None) -> None:
        self._task = task

    async def ask(self, requests: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Park the task in ``input_required`` until every request is answered; the answers."""
        task = self._task
        if task is None:
            raise RpcError(INVALID_PARAMS, "This tool needs input, which only a task can ask for")
        task.pending.update(requests)
        task.touch("input_required")
        while any(key not in task.answers for key in requests):
            task.changed.clear()
            await task.changed.wait()
        task.touch("working")
        return {key: task.answers.pop(key) for key in requests}


Body = Callable[[TaskContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class StartTask:
    """Returned by a task-supporting handler: the work, run as a task or inline."""

    body: Body


class TaskStore:
    def __init__(self) -> None:
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._ids = itertools.count(1)

    def create(self, subject: str, body: Body) -> Task:
        self._expire()
        task_id = f"task-{next(self._ids)}-{secrets.token_urlsafe(9)}"
        task = Task(task_id, subject)
        self._tasks[task_id] = task
        task.runner = asyncio.get_running_loop().create_task(self._run(task, body))
        while len(self._tasks) > MAX_TASKS:
            _, old = self._tasks.popitem(last=False)
            if old.runner is not None:
                old.runner.cancel()
        return task

    async def _run(self, task: Task, body: Body) -> None:
        try:
            result = await body(TaskContext(task))
        except asyncio.CancelledError:
            if task.status not in TERMINAL:
                task.touch("cancelled")
            raise
        except TaskFailed as exc:
            task.error = {"code": exc.code, "message": exc.message}
            task.touch("failed")
        except RpcError as exc:
            task.error = {"code": exc.code, "message": exc.message}
            task.touch("failed")
        except Exception:  # noqa: BLE001 - a crashed body is a failed task, not a lost one
            task.error = {"code": INTERNAL_ERROR, "message": "Internal error"}
            task.touch("failed")
        else:
            task.result = result
            task.touch("completed")

    def _expire(self) -> None:
        now = time.time()
        for task_id in [t.task_id for t in self._tasks.values() if t.status in TERMINAL
                        and now - t.updated > TTL_MS / 1000]:
            del self._tasks[task_id]

    def get(self, task_id: Any, subject: str) -> Task:
        task = self._tasks.get(task_id) if isinstance(task_id, str) else None
        if task is None or task.subject != subject:
            raise RpcError(INVALID_PARAMS, "Unknown taskId", data={"taskId": task_id})
        return task

    def update(self, task: Task, responses: dict[str, Any]) -> None:
        for key, value in responses.items():
            if key in task.pending:  # unknown keys are ignored
                task.answers[key] = value
                del task.pending[key]
        task.changed.set()

    def cancel(self, task: Task) -> None:
        if task.status in TERMINAL:
            return
        task.touch("cancelled")
        if task.runner is not None:
            task.runner.cancel()


def declared(capabilities: dict[str, Any]) -> bool:
    extensions = capabilities.get("extensions")
    return isinstance(extensions, dict) and isinstance(extensions.get(EXTENSION), dict)


def missing_extension(what: str) -> RpcError:
    return RpcError(
        MISSING_CLIENT_CAPABILITY,
        f"{what} needs the client capability extensions[{EXTENSION!r}]",
        status=400,
        data={"requiredCapabilities": {"extensions": {EXTENSION: {}}}},
    )
