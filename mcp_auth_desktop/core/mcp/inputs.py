"""What the client answers when a server asks it for something.

2026-07-28 servers ask inside a result (``resultType: "input_required"``, SEP-2322
multi round-trip requests); legacy servers send JSON-RPC requests on the event
stream. Either way the same answers apply:

* ``elicitation/create``: the caller's handler, if it gave one (then the client
  declares the ``elicitation`` capability); otherwise ``decline``: this app has
  no form to show, and a server must not ask a client that did not declare it.
* ``roots/list``: no roots (this client exposes no files).
* ``ping`` (legacy only): ``{}``.
* ``sampling/createMessage`` and anything else: this client has no language
  model and offers nothing else; a 2026 exchange ends with
  :class:`~..errors.InputRequiredError` naming what was asked, a legacy request
  gets JSON-RPC "Method not found".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import InputRequiredError, McpProtocolError, sanitize_server_text

__all__ = ["ElicitationHandler", "InputResponder", "accept_defaults", "decline"]

ElicitationHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
_MAX_INPUT_REQUESTS = 32


async def decline(params: dict[str, Any]) -> dict[str, Any]:
    """Elicitation answer of a client that cannot ask its user."""
    return {"action": "decline"}


async def accept_defaults(params: dict[str, Any]) -> dict[str, Any]:
    """Accept a form elicitation with the defaults the server's schema gives (SEP-1034).

    For callers whose user has agreed in advance to the server's suggested
    values (automated checks). A URL-mode elicitation is declined.
    """
    if params.get("mode", "form") != "form":
        return {"action": "decline"}
    schema = params.get("requestedSchema")
    props = schema.get("properties") if isinstance(schema, dict) else None
    content: dict[str, Any] = {}
    for name, prop in (props or {}).items():
        if isinstance(prop, dict) and "default" in prop:
            content[name] = prop["default"]
    return {"action": "accept", "content": content}


class InputResponder:
    """Answers input requests; see the module docstring."""

    def __init__(self, elicitation: ElicitationHandler | None = None) -> None:
        self._elicitation = elicitation

    @property
    def capabilities(self) -> dict[str, Any]:
        """Client capabilities to declare (in ``initialize`` or in every 2026 request's ``_meta``)."""
        return {"elicitation": {"form": {}}} if self._elicitation is not None else {}

    async def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method == "elicitation/create":
            return await (self._elicitation or decline)(params)
        if method == "roots/list":
            return {"roots": []}
        return None

    async def input_responses(self, requests: object, where: str) -> dict[str, Any]:
        """``inputResponses`` for an ``InputRequiredResult``'s ``inputRequests`` map."""
        if not isinstance(requests, dict) or len(requests) > _MAX_INPUT_REQUESTS:
            raise McpProtocolError(f"The MCP server at {where} sent malformed inputRequests.")
        out: dict[str, Any] = {}
        for key, req in requests.items():
            method = req.get("method") if isinstance(req, dict) else None
            params = req.get("params") if isinstance(req, dict) else None
            if not isinstance(method, str):
                raise McpProtocolError(f"The MCP server at {where} sent an input request without a method.")
            answer = await self._answer(method, params if isinstance(params, dict) else {})
            if answer is None:
                raise InputRequiredError(
                    f"The MCP server at {where} needs input this app cannot give "
                    f"({sanitize_server_text(method, 60)}); use an MCP client that offers it."
                )
            out[key] = answer
        return out

    async def legacy_reply(self, request: dict[str, Any]) -> dict[str, Any]:
        """The JSON-RPC reply to a request a legacy server sent on its event stream."""
        method = request.get("method")
        params = request.get("params")
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        answer: dict[str, Any] | None = None
        if method == "ping":
            answer = {}
        elif method == "elicitation/create" and self._elicitation is not None:
            answer = await self._elicitation(params if isinstance(params, dict) else {})
        if answer is None:
            reply["error"] = {"code": -32601, "message": "Method not found"}
        else:
            reply["result"] = answer
        return reply
