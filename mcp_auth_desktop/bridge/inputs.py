"""Asking the local client for input a 2026-07-28 server wants (multi round-trip, SEP-2322).

A 2026 server answers ``tools/call`` (or ``prompts/get``, ``resources/read``) with
``resultType: "input_required"`` and ``inputRequests`` (elicitation, sampling, roots). A
legacy client cannot read that, but it does answer the same requests when a server sends
them as JSON-RPC requests: the bridge sends each one to the client on stdout, waits for its
answer on stdin, and retries the original request with ``inputResponses`` and the
server's ``requestState`` (echoed unchanged) until the result is complete
(:meth:`InputRelay.rounds`, bounded).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from mcp_auth_desktop.bridge.stdio import StdoutWriter
from mcp_auth_desktop.core import errors

__all__ = ["InputRelay", "MAX_INPUT_ROUNDS"]

MAX_INPUT_ROUNDS = 8
#: Sends one request upstream and returns its response (the session's, with its deadline).
Collect = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
_METHODS = frozenset({"elicitation/create", "sampling/createMessage", "roots/list"})


class InputRelay:
    def __init__(self, writer: StdoutWriter) -> None:
        self._out = writer
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def take(self, message: dict[str, Any]) -> bool:
        """True when ``message`` is the client's answer to one of our requests (consumed)."""
        rid = message.get("id")
        future = self._pending.pop(rid, None) if isinstance(rid, str) else None
        if future is None:
            return False
        if not future.done():
            future.set_result(message)
        return True

    async def rounds(
        self, collect: Collect, outgoing: dict[str, Any], reply: dict[str, Any], where: str,
        answer_within: float,
    ) -> dict[str, Any]:
        """For a legacy client: put a 2026 server's input requests to the client, retry with
        its answers and the server's requestState, until the result is complete (bounded).

        ``answer_within`` bounds each round's wait for the client: a person may be answering
        (elicitation), so the caller gives a generous bound, not the server's.
        """
        for _ in range(MAX_INPUT_ROUNDS):
            result = reply.get("result")
            if not isinstance(result, dict) or result.get("resultType") != "input_required":
                return reply
            params = dict(outgoing.get("params") or {})
            params.pop("requestState", None)
            async with asyncio.timeout(answer_within):
                params["inputResponses"] = await self.answer(result.get("inputRequests"), where)
            if isinstance(result.get("requestState"), str):
                params["requestState"] = result["requestState"]  # opaque: echoed unchanged
            reply = await collect({**outgoing, "params": params})
        return reply

    async def answer(self, requests: Any, where: str) -> dict[str, Any]:
        """Each input request put to the client; ``{key: its result}``."""
        if not isinstance(requests, dict) or not requests:
            raise errors.McpProtocolError(f"The MCP server at {where} asked for input without saying what.")
        answers: dict[str, Any] = {}
        for key, request in list(requests.items())[:16]:
            method = request.get("method") if isinstance(request, dict) else None
            if method not in _METHODS:
                raise errors.McpProtocolError(
                    f"The MCP server at {where} asked for input of an unknown kind "
                    f"({errors.sanitize_server_text(method, 60)})."
                )
            rid = f"mcp-auth-bridge-input-{next(self._ids)}"
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending[rid] = future
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
            if isinstance(request.get("params"), dict):
                message["params"] = request["params"]
            self._out.write(message)
            try:
                reply = await future
            finally:
                self._pending.pop(rid, None)
            if "result" not in reply:
                error = reply.get("error")
                why = error.get("message") if isinstance(error, dict) else None
                raise errors.McpProtocolError(
                    f"The client refused the server's {method} request: "
                    f"{errors.sanitize_server_text(why or 'no reason given', 200)}"
                )
            answers[str(key)] = reply["result"]
        return answers
