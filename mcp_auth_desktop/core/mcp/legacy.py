"""The legacy protocol (2025-11-25 and older): ``initialize``, sessions, resumable streams.

``initialize`` negotiates the revision; afterwards every request carries
``MCP-Protocol-Version`` and, when the server issued one, ``Mcp-Session-Id``.
A 404 to a request with a session id means the server forgot the session: a
new one is initialized once and the request retried. :meth:`close` ends the
session with ``DELETE``. Requests the server sends on a stream are answered by
:class:`~.inputs.InputResponder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Any

import httpx

from ..errors import McpProtocolError, sanitize_server_text
from .inputs import InputResponder
from .transport import HttpRejected, SessionExpired, Transport

__all__ = ["LegacySession", "rpc_error"]

log = logging.getLogger("mcp_auth_desktop.core.mcp_client")


def rpc_error(where: str, method: str, err: object, status: int | None = None) -> McpProtocolError:
    """McpProtocolError for a JSON-RPC error object (server text sanitised, code kept)."""
    code = err.get("code") if isinstance(err, dict) else None
    text = err.get("message") if isinstance(err, dict) else None
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    if text is None and status is not None:
        return McpProtocolError(
            f"The MCP server at {where} answered {method} with HTTP {status}.", code=code, status=status
        )
    return McpProtocolError(
        f"The MCP server rejected {method}: {sanitize_server_text(text or 'no message')}"
        + (f" (code {code})" if code is not None else "")
        + (f" (HTTP {status})" if status is not None else ""),
        code=code,
    )


class LegacySession:
    def __init__(
        self,
        transport: Transport,
        inputs: InputResponder,
        client_info: dict[str, Any],
        requested_version: str,
        ids: itertools.count[int],
    ) -> None:
        self._t = transport
        self._inputs = inputs
        self._client_info = client_info
        self._requested = requested_version
        self._ids = ids
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self._listener: asyncio.Task[None] | None = None

    async def initialize(self) -> dict[str, Any]:
        self.session_id = None
        self.protocol_version = None
        result = await self._send(
            "initialize",
            {"protocolVersion": self._requested, "capabilities": self._inputs.capabilities, "clientInfo": self._client_info},
        )
        if not isinstance(result, dict):
            raise McpProtocolError(f"The MCP server at {self._t.where} sent a malformed initialize result.")
        version = result.get("protocolVersion")
        self.protocol_version = version if isinstance(version, str) and version else self._requested
        await self.notify("notifications/initialized")
        if self._inputs.capabilities and self._current_session() is not None:
            await self._listen()
        return result

    async def _listen(self) -> None:
        """Open the standalone GET stream: servers send some requests (elicitation) only there."""
        await self._stop_listening()
        opened = asyncio.Event()
        self._listener = asyncio.create_task(self._t.listen(self._headers(), self._inputs.legacy_reply, opened))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await opened.wait()

    async def _stop_listening(self) -> None:
        task, self._listener = self._listener, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def request(self, method: str, params: dict[str, Any] | None) -> Any:
        try:
            return await self._send(method, params)
        except SessionExpired:
            log.info("MCP session at %s expired; initializing a new one", self._t.where)
            await self.initialize()
            return await self._send(method, params)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._t.post(message, self._headers(), expect_id=None, method=method, has_session=bool(self.session_id))

    async def close(self) -> None:
        await self._stop_listening()
        session, self.session_id = self.session_id, None
        if session is not None:
            headers = {"Mcp-Session-Id": session}
            if self.protocol_version:
                headers["MCP-Protocol-Version"] = self.protocol_version
            await self._t.delete(headers)

    def rejected(self, method: str, exc: HttpRejected) -> McpProtocolError:
        err = exc.body.get("error") if isinstance(exc.body, dict) else None
        return rpc_error(self._t.where, method, err, exc.status)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    async def _send(self, method: str, params: dict[str, Any] | None) -> Any:
        request_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        reply = await self._t.post(
            message,
            self._headers(),
            expect_id=request_id,
            method=method,
            has_session=bool(self.session_id),
            resumable=True,
            on_server_request=self._inputs.legacy_reply,
            on_response=self._take_session if method == "initialize" else None,
        )
        if reply is None:  # only notifications get no reply; keeps the type checker honest
            raise McpProtocolError(f"The MCP server at {self._t.where} sent no reply to {method}.")
        if "error" in reply:
            raise rpc_error(self._t.where, method, reply["error"])
        return reply.get("result")

    def _current_session(self) -> str | None:
        # A method, not the attribute: set by the response callback, which the
        # type checker cannot see after initialize() cleared it.
        return self.session_id

    def _take_session(self, resp: httpx.Response) -> None:
        sid = resp.headers.get("mcp-session-id")
        if sid and sid.isascii() and sid.isprintable() and len(sid) <= 1024:
            self.session_id = sid
