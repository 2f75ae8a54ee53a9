"""What a tool of /mcp is (McpTool), and the two demo tools built for 2026-07-28:
regional_echo (an Mcp-Param header) and confirm_action (a multi round-trip)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mock_server import scopes as S
from mock_server import tools as demo
from mock_server.mcp.context import Call, InputRequired
from mock_server.mcp.protocol import INVALID_PARAMS, RpcError
from mock_server.mcp.tasks import StartTask

Handler = Callable[[Call, dict[str, Any]], Awaitable["dict[str, Any] | InputRequired | StartTask"]]


@dataclass(frozen=True)
class McpTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Handler
    scopes: tuple[str, ...] = (S.READ,)
    streams: bool = False
    """Sends notifications or input requests while running: answer with SSE when the client accepts it."""
    requires: dict[str, Any] = field(default_factory=dict)
    """Client capabilities the tool cannot run without (-32021 in 2026-07-28, -32602 before)."""
    modern_only: bool = False
    legacy_only: bool = False
    task_support: str = "forbidden"
    """tasks extension: "optional" (a task when the client declares it, else inline) or "required"."""
    extra: dict[str, Any] = field(default_factory=dict)

    def listing(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "description": f"{self.description} Requires scope: {' '.join(self.scopes)}.",
            "inputSchema": self.input_schema,
            "_meta": {"mcp-auth-mock/requiredScopes": list(self.scopes)},
        }
        if self.task_support != "forbidden":
            entry["execution"] = {"taskSupport": self.task_support}
        entry.update(self.extra)
        return entry

    def header_params(self) -> dict[str, tuple[str, str]]:
        """Mcp-Param-{name} (lower-case) -> (argument, JSON type), from top-level x-mcp-header marks."""
        marks: dict[str, tuple[str, str]] = {}
        for arg, schema in (self.input_schema.get("properties") or {}).items():
            if isinstance(schema, dict) and isinstance(schema.get("x-mcp-header"), str):
                marks[schema["x-mcp-header"].lower()] = (arg, str(schema.get("type", "string")))
        return marks


def text_result(text: str, is_error: bool = False) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


def wrap_demo(tool: demo.Tool) -> McpTool:
    async def run(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
        try:
            text = tool.run(call.mock, call.auth, arguments)
        except demo.ToolInputError as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from exc
        return text_result(text)

    return McpTool(tool.name, tool.description, tool.input_schema, run, scopes=tool.scopes)


async def _regional_echo(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    region, text = arguments.get("region"), arguments.get("text")
    if not isinstance(region, str) or not isinstance(text, str) or len(region) > 64 or len(text) > 4096:
        raise RpcError(INVALID_PARAMS, "arguments 'region' (at most 64 characters) and 'text' must be strings")
    return text_result(f"[{region}] {text}")


REGIONAL_ECHO = McpTool(
    "regional_echo",
    "Returns the text prefixed by its region; the region travels in the Mcp-Param-Region header "
    "(x-mcp-header) in MCP 2026-07-28.",
    {
        "type": "object",
        "properties": {
            "region": {"type": "string", "description": "Where to echo from", "x-mcp-header": "Region"},
            "text": {"type": "string"},
        },
        "required": ["region", "text"],
    },
    _regional_echo,
)


async def _confirm_action(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    """Two rounds: asks the user to confirm (elicitation), then reports the answer.

    The action is carried in the signed requestState, so the second round cannot change it."""
    state = call.load_state()
    if state is None:
        action = arguments.get("action")
        if not isinstance(action, str) or not 0 < len(action) <= 200:
            raise RpcError(INVALID_PARAMS, "argument 'action' must be a string of 1 to 200 characters")
        state = {"tool": "confirm_action", "action": action}
    elif state.get("tool") != "confirm_action":
        raise RpcError(INVALID_PARAMS, "requestState was issued for another request")
    answer = call.elicited("confirm")
    if answer is None:
        return InputRequired(
            {
                "confirm": {
                    "method": "elicitation/create",
                    "params": {
                        "message": f"Confirm: {state['action']}?",
                        "requestedSchema": {
                            "type": "object",
                            "properties": {"confirm": {"type": "boolean", "title": "Confirm"}},
                            "required": ["confirm"],
                        },
                    },
                }
            },
            state=call.dump_state(state),
        )
    confirmed = answer["action"] == "accept" and answer["content"].get("confirm") is True
    verdict = "confirmed" if confirmed else "not confirmed"
    return text_result(f"{state['action']}: {verdict}")


CONFIRM_ACTION = McpTool(
    "confirm_action",
    "Asks you to confirm an action (a multi round-trip input_required exchange in MCP 2026-07-28, "
    "an elicitation/create request in the handshake era), then reports your answer.",
    {"type": "object", "properties": {"action": {"type": "string"}}, "required": ["action"]},
    _confirm_action,
    streams=True,
    requires={"elicitation": {}},
)
