"""The tasks extension (SEP-2663) on /mcp: task creation only for clients that declare it,
polling, input through tasks/update, cancellation, and tasks bound to their user."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.mock.helpers import BASE_URL, asgi_client, make_app
from tests.mock.mcp2026 import body, post, request

MCP = BASE_URL + "/mcp"
TASKS = {"extensions": {"io.modelcontextprotocol/tasks": {}}, "elicitation": {}}


@pytest.fixture
async def env() -> Any:
    app, state = make_app()
    async with asgi_client(app) as http:
        yield state, http, state.mint_access_token(scope="mcp:read")
    state.close()


async def call(http: Any, token: str, method: str, params: dict[str, Any], caps: dict[str, Any] | None = None) -> Any:
    return body(await post(http, MCP, request(method, params, capabilities=TASKS if caps is None else caps), token))


async def wait_for(http: Any, token: str, task_id: str, status: str) -> dict[str, Any]:
    for _ in range(100):
        got: dict[str, Any] = (await call(http, token, "tasks/get", {"taskId": task_id}))["result"]
        if got["status"] == status:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"task {task_id} never reached {status}: {got}")


async def test_a_declaring_client_gets_a_task_it_can_poll_to_its_result(env: Any) -> None:
    state, http, token = env
    created = (await call(http, token, "tools/call", {"name": "slow_compute", "arguments": {"seconds": 0.1, "label": "x"}}))["result"]
    assert created["resultType"] == "task" and created["status"] == "working"
    assert created["ttlMs"] == 300_000 and created["pollIntervalMs"] == 200
    assert not {"result", "error", "inputRequests", "requestState"} & set(created)
    done = await wait_for(http, token, created["taskId"], "completed")
    assert done["result"]["content"][0]["text"] == "computed x after 0.1 s"
    assert done["resultType"] == "complete"


async def test_without_the_extension_optional_runs_inline_and_required_is_32021(env: Any) -> None:
    state, http, token = env
    inline = (await call(http, token, "tools/call", {"name": "slow_compute", "arguments": {"seconds": 0}}, caps={}))
    assert inline["result"]["resultType"] == "complete" and "taskId" not in inline["result"]
    refused = await post(http, MCP, request("tools/call", {"name": "failing_job", "arguments": {}}, capabilities={}), token)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == -32021
    assert refused.json()["error"]["data"] == {"requiredCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
    gated = await post(http, MCP, request("tasks/get", {"taskId": "x"}, capabilities={}), token, **{"Mcp-Name": "x"})
    assert gated.json()["error"]["code"] == -32021


async def test_input_goes_through_tasks_update_and_tasks_are_per_user(env: Any) -> None:
    state, http, token = env
    created = (await call(http, token, "tools/call", {"name": "multi_input", "arguments": {}}))["result"]
    task_id = created["taskId"]
    parked = await wait_for(http, token, task_id, "input_required")
    first, second = sorted(parked["inputRequests"])
    assert parked["inputRequests"][first]["method"] == "elicitation/create"
    mallory = state.mint_access_token(subject="mallory", scope="mcp:read")
    stranger = await post(http, MCP, request("tasks/get", {"taskId": task_id}, capabilities=TASKS), mallory,
                          **{"Mcp-Name": task_id})
    assert stranger.json()["error"]["code"] == -32602
    ack = (await call(http, token, "tasks/update", {"taskId": task_id, "inputResponses": {
        first: {"action": "accept", "content": {"confirm": True}}, "unknown": {}}}))["result"]
    assert ack == {"resultType": "complete"}
    still = (await call(http, token, "tasks/get", {"taskId": task_id}))["result"]
    assert still["status"] == "input_required" and list(still["inputRequests"]) == [second]
    await call(http, token, "tasks/update", {"taskId": task_id, "inputResponses": {
        second: {"action": "decline"}}})
    done = await wait_for(http, token, task_id, "completed")
    assert done["result"]["content"][0]["text"] == "answered 1 of 2"


async def test_cancel_is_an_idempotent_empty_ack(env: Any) -> None:
    state, http, token = env
    created = (await call(http, token, "tools/call", {"name": "slow_compute", "arguments": {"seconds": 60}}))["result"]
    for _ in range(2):
        ack = (await call(http, token, "tasks/cancel", {"taskId": created["taskId"]}))["result"]
        assert ack == {"resultType": "complete"}
    assert (await wait_for(http, token, created["taskId"], "cancelled"))["status"] == "cancelled"
    unknown = await call(http, token, "tasks/get", {"taskId": "task-0-nope"})
    assert unknown["error"]["code"] == -32602


async def test_a_protocol_error_fails_the_task_and_a_tool_error_completes_it(env: Any) -> None:
    state, http, token = env
    failing = (await call(http, token, "tools/call", {"name": "protocol_error_job", "arguments": {}}))["result"]
    failed = await wait_for(http, token, failing["taskId"], "failed")
    assert failed["error"]["code"] == -32603 and "result" not in failed
    tool_error = (await call(http, token, "tools/call", {"name": "failing_job", "arguments": {}}))["result"]
    completed = await wait_for(http, token, tool_error["taskId"], "completed")
    assert completed["result"]["isError"] is True
