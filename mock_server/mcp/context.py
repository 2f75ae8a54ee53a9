"""What a request handler sees, whatever the era: the caller, the client's capabilities, and
two ways to talk back (notifications on the response stream, and input requests).

Handlers never send server-to-client requests themselves. They return ``InputRequired``;
the 2026-07-28 driver turns it into an ``InputRequiredResult`` (SEP-2322, multi round-trip)
and the handshake-era driver sends each input request over the POST's SSE stream and calls
the handler again with the answers. One handler, both eras.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.mcp.hub import Hub
from mock_server.mcp.protocol import INVALID_PARAMS, LOG_LEVELS, RpcError
from mock_server.mcp.state_codec import StateCodec
from mock_server.mcp.tasks import TaskStore
from mock_server.state import MockState, TokenCheck

Notify = Callable[[str, dict[str, Any]], Awaitable[None]]


async def _drop(_: str, __: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class InputRequired:
    """The handler needs answers from the client before it can finish."""

    requests: dict[str, dict[str, Any]]
    """key -> {"method": "elicitation/create" | "sampling/createMessage" | "roots/list", "params": {...}}"""
    state: str | None = None


@dataclass
class Call:
    mock: MockState
    auth: TokenCheck
    version: str
    """The protocol revision this request is served under."""
    params: dict[str, Any]
    capabilities: dict[str, Any]
    codec: StateCodec
    hub: Hub
    tasks: TaskStore
    input_responses: dict[str, Any] | None = None
    request_state: str | None = None
    progress_token: Any = None
    log_level: str | None = None
    notify: Notify = _drop
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def modern(self) -> bool:
        return self.version >= "2026"

    @property
    def subject(self) -> str:
        return str(self.auth.claims.get("sub"))

    def has_capability(self, name: str) -> bool:
        return isinstance(self.capabilities.get(name), dict)

    async def log(self, level: str, data: Any) -> None:
        """notifications/message, only at or above the level the client asked for (none if it did not)."""
        if self.log_level is None or LOG_LEVELS.index(level) < LOG_LEVELS.index(self.log_level):
            return
        await self.notify("notifications/message", {"level": level, "logger": "mock", "data": data})

    async def progress(self, done: float, total: float, message: str | None = None) -> None:
        if self.progress_token is None:
            return
        params: dict[str, Any] = {"progressToken": self.progress_token, "progress": done, "total": total}
        if message:
            params["message"] = message
        await self.notify("notifications/progress", params)

    def answer(self, key: str) -> dict[str, Any] | None:
        """The client's answer to input request ``key``; a malformed answer is a -32602 error."""
        if self.input_responses is None or key not in self.input_responses:
            return None
        value = self.input_responses[key]
        if not isinstance(value, dict):
            raise RpcError(INVALID_PARAMS, f"inputResponses[{key!r}] must be an object")
        return value

    def elicited(self, key: str) -> dict[str, Any] | None:
        """The accepted content of an elicitation answer (None when not answered yet)."""
        value = self.answer(key)
        if value is None:
            return None
        action = value.get("action")
        if action not in ("accept", "decline", "cancel"):
            raise RpcError(INVALID_PARAMS, f"inputResponses[{key!r}].action must be accept, decline or cancel")
        content = value.get("content", {})
        if not isinstance(content, dict):
            raise RpcError(INVALID_PARAMS, f"inputResponses[{key!r}].content must be an object")
        return {"action": action, "content": content}

    def load_state(self) -> dict[str, Any] | None:
        """The verified requestState, None when the client sent none."""
        if self.request_state is None:
            return None
        return self.codec.load(self.request_state, self.subject)

    def dump_state(self, data: Mapping[str, Any]) -> str:
        return self.codec.dump(data, self.subject)
