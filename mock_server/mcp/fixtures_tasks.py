"""Tools the conformance suite's tasks-extension scenarios (SEP-2663) call. 2026-07-28 only."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from mock_server.mcp.context import Call, InputRequired
from mock_server.mcp.protocol import INTERNAL_ERROR, INVALID_PARAMS, RpcError
from mock_server.mcp.registry import McpTool, text_result
from mock_server.mcp.tasks import StartTask, TaskContext, TaskFailed

_NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}}


def _confirm(message: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}
    return {"method": "elicitation/create", "params": {"message": message, "requestedSchema": schema}}


def _accepted(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("action") == "accept"


async def _greet(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired | StartTask:
    name = arguments.get("name")
    if not isinstance(name, str) or len(name) > 200:
        raise RpcError(INVALID_PARAMS, "argument 'name' must be a string of at most 200 characters")
    return text_result(f"Hello, {name}!")


async def _slow_compute(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired | StartTask:
    seconds, label = arguments.get("seconds", 1), arguments.get("label", "")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 120:
        raise RpcError(INVALID_PARAMS, "argument 'seconds' must be a number from 0 to 120")
    if not isinstance(label, str) or len(label) > 200:
        raise RpcError(INVALID_PARAMS, "argument 'label' must be a string")

    async def body(_: TaskContext) -> dict[str, Any]:
        await asyncio.sleep(float(seconds))
        return text_result(f"computed {label or 'result'} after {seconds} s")

    return StartTask(body)


async def _failing_job(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired | StartTask:
    async def body(_: TaskContext) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return text_result("the job failed (a tool error: the task completes with isError)", is_error=True)

    return StartTask(body)


async def _protocol_error_job(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired | StartTask:
    async def body(_: TaskContext) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        raise TaskFailed(INTERNAL_ERROR, "the job's backend refused the request (a protocol error: the task fails)")

    return StartTask(body)


async def _confirm_delete(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired | StartTask:
    filename = arguments.get("filename")
    if not isinstance(filename, str) or len(filename) > 500:
        raise RpcError(INVALID_PARAMS, "argument 'filename' must be a string")

    async def body(ctx: TaskContext) -> dict[str, Any]:
        key = "confirm-" + secrets.token_urlsafe(6)  # server-minted opaque id
        answers = await ctx.ask({key: _confirm(f"Delete {filename}?")})
        return text_result(f"{filename}: {'deleted' if _accepted(answers[key]) else 'kept'}")

    return StartTask(body)


async def _multi_input(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired | StartTask:
    async def body(ctx: TaskContext) -> dict[str, Any]:
        first, second = "first-" + secrets.token_urlsafe(6), "second-" + secrets.token_urlsafe(6)
        answers = await ctx.ask({first: _confirm("First question?"), second: _confirm("Second question?")})
        return text_result(f"answered {sum(_accepted(a) for a in answers.values())} of 2")

    return StartTask(body)


async def _tool_with_task(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired | StartTask:
    """Gathers a name by multi round-trip, then continues as a task whose result names it."""
    call.load_state()
    answer = call.elicited("user_name")
    if answer is None:
        schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        return InputRequired({"user_name": {"method": "elicitation/create",
                                            "params": {"message": "What is your name?", "requestedSchema": schema}}})
    name = str(answer["content"].get("name", "stranger"))[:200]

    async def body(_: TaskContext) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return text_result(f"Hello, {name}! (finished as a task)")

    return StartTask(body)


TOOLS: list[McpTool] = [
    McpTool("greet", "Greets by name (a plain, synchronous tool).",
            {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}, _greet),
    McpTool("slow_compute", "Sleeps for `seconds`, then answers; a task when the client supports tasks.",
            {"type": "object", "properties": {"seconds": {"type": "number"}, "label": {"type": "string"}}},
            _slow_compute, modern_only=True, task_support="optional"),
    McpTool("failing_job", "A task whose tool reports an error (completed, isError).", _NO_ARGS, _failing_job,
            modern_only=True, task_support="required"),
    McpTool("protocol_error_job", "A task that fails with a protocol error (failed, error).", _NO_ARGS,
            _protocol_error_job, modern_only=True, task_support="required"),
    McpTool("confirm_delete", "A task that asks for confirmation (input_required, answered by tasks/update).",
            {"type": "object", "properties": {"filename": {"type": "string"}}, "required": ["filename"]},
            _confirm_delete, modern_only=True, task_support="required"),
    McpTool("multi_input", "A task that asks two questions at once.", _NO_ARGS, _multi_input,
            modern_only=True, task_support="required"),
    McpTool("test_tool_with_task", "Asks your name (input_required), then finishes as a task.", _NO_ARGS,
            _tool_with_task, modern_only=True, task_support="required"),
]
