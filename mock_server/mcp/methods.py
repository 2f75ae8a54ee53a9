"""Request handlers both eras share: tools, resources, prompts, completions.

Each returns a result (without ``resultType``: the 2026-07-28 driver adds it) or
``InputRequired``. Scope and capability checks run in ``preflight`` before any stream opens,
so their errors keep their own HTTP status (403, 400).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mock_server import scopes as scope_rules
from mock_server.mcp import content, skills, tasks
from mock_server.mcp.catalogue import TOOLS
from mock_server.mcp.context import Call, InputRequired
from mock_server.mcp.protocol import INVALID_PARAMS, MISSING_CLIENT_CAPABILITY, RpcError
from mock_server.mcp.registry import McpTool
from mock_server.tools import LIST_SCOPES

SHARED_METHODS = (
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
)
TASK_METHODS = ("tasks/get", "tasks/update", "tasks/cancel")
"""The tasks extension's methods: 2026-07-28 only."""
INPUT_METHODS = ("tools/call", "prompts/get", "resources/read")
"""Where an InputRequiredResult may be returned (SEP-2322)."""


class ScopeRequired(Exception):
    """The token lacks scopes: 403 insufficient_scope with the full set the operation needs."""

    def __init__(self, needed: tuple[str, ...]) -> None:
        super().__init__(" ".join(needed))
        self.needed = needed


def visible_tools(call: Call) -> list[McpTool]:
    return [
        t for t in TOOLS.values()
        if not (t.modern_only and not call.modern) and not (t.legacy_only and call.modern)
    ]


def preflight(call: Call, method: str) -> McpTool | None:
    """Scope and capability checks; returns the tool a tools/call will run."""
    if not scope_rules.satisfies(call.auth.scopes, LIST_SCOPES):
        raise ScopeRequired(LIST_SCOPES)
    if method in TASK_METHODS and not tasks.declared(call.capabilities):
        raise tasks.missing_extension(method)
    if method != "tools/call":
        return None
    name = call.params.get("name")
    tool = next((t for t in visible_tools(call) if t.name == name), None)
    if tool is None:
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}" if isinstance(name, str) else "Unknown tool")
    if not scope_rules.satisfies(call.auth.scopes, tool.scopes):
        raise ScopeRequired(tool.scopes)
    if tool.task_support == "required" and not tasks.declared(call.capabilities):
        raise tasks.missing_extension(f"Tool {tool.name}")
    missing: dict[str, Any] = {cap: {} for cap in tool.requires if not call.has_capability(cap)}
    if missing:
        names = ", ".join(sorted(missing))
        if call.modern:
            raise RpcError(
                MISSING_CLIENT_CAPABILITY,
                f"Tool {tool.name} needs the client capability: {names}",
                status=400,
                data={"requiredCapabilities": missing},
            )
        raise RpcError(INVALID_PARAMS, f"Tool {tool.name} needs the client capability: {names}")
    return tool


async def _tools_list(call: Call) -> dict[str, Any]:
    return {"tools": [t.listing() for t in visible_tools(call)]}


async def _tools_call(call: Call) -> dict[str, Any] | InputRequired:
    tool = preflight(call, "tools/call")
    assert tool is not None
    arguments = call.params.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "arguments must be an object")
    result = await tool.handler(call, arguments)
    call.mock.count(f"tool:{tool.name}")
    if isinstance(result, tasks.StartTask):
        if tasks.declared(call.capabilities):
            task = call.tasks.create(call.subject, result.body)
            return {"resultType": "task", **task.envelope()}
        return await result.body(tasks.TaskContext(None))
    return result


async def _resources_list(call: Call) -> dict[str, Any]:
    return {"resources": [dict(r) for r in content.RESOURCES] + skills.listed_resources()}


async def _templates_list(call: Call) -> dict[str, Any]:
    return {"resourceTemplates": [dict(t) for t in content.TEMPLATES]}


async def _resources_read(call: Call) -> dict[str, Any]:
    uri = call.params.get("uri")
    if not isinstance(uri, str):
        raise RpcError(INVALID_PARAMS, "params.uri must be a string")
    return skills.read(uri) or content.read_resource(uri)


async def _prompts_list(call: Call) -> dict[str, Any]:
    return {"prompts": [dict(p) for p in content.PROMPTS]}


async def _prompts_get(call: Call) -> dict[str, Any] | InputRequired:
    name = call.params.get("name")
    if not isinstance(name, str):
        raise RpcError(INVALID_PARAMS, "params.name must be a string")
    return await content.get_prompt(call, name, call.params.get("arguments"))


async def _complete(call: Call) -> dict[str, Any]:
    return content.complete(call.params)


async def _skills_list(call: Call) -> dict[str, Any]:
    return skills.list_skills(call.params)


async def _skills_get(call: Call) -> dict[str, Any]:
    return skills.get_skill(call.params)


async def _directory_read(call: Call) -> dict[str, Any]:
    return skills.read_directory(call.params)


async def _tasks_get(call: Call) -> dict[str, Any]:
    return call.tasks.get(call.params.get("taskId"), call.subject).detailed()


async def _tasks_update(call: Call) -> dict[str, Any]:
    task = call.tasks.get(call.params.get("taskId"), call.subject)
    responses = call.params.get("inputResponses")
    if not isinstance(responses, dict):
        raise RpcError(INVALID_PARAMS, "tasks/update needs an inputResponses object")
    call.tasks.update(task, responses)
    return {}


async def _tasks_cancel(call: Call) -> dict[str, Any]:
    call.tasks.cancel(call.tasks.get(call.params.get("taskId"), call.subject))
    return {}


HANDLERS: dict[str, Callable[[Call], Awaitable[dict[str, Any] | InputRequired]]] = {
    "tools/list": _tools_list,
    "tools/call": _tools_call,
    "resources/list": _resources_list,
    "resources/templates/list": _templates_list,
    "resources/read": _resources_read,
    "prompts/list": _prompts_list,
    "prompts/get": _prompts_get,
    "completion/complete": _complete,
    "skills/list": _skills_list,
    "skills/get": _skills_get,
    "resources/directory/read": _directory_read,
    "tasks/get": _tasks_get,
    "tasks/update": _tasks_update,
    "tasks/cancel": _tasks_cancel,
}

CAPABILITIES: dict[str, Any] = {
    "tools": {"listChanged": True},
    "resources": {"listChanged": False},
    "prompts": {"listChanged": True},
    "completions": {},
    "logging": {},
    "extensions": {tasks.EXTENSION: {}, skills.EXTENSION: skills.SETTINGS},
}
"""What the server offers in 2026-07-28 (listChanged over subscriptions/listen)."""

LEGACY_CAPABILITIES: dict[str, Any] = {
    "tools": {"listChanged": False},
    "resources": {"subscribe": True, "listChanged": False},
    "prompts": {"listChanged": False},
    "completions": {},
    "logging": {},
}
