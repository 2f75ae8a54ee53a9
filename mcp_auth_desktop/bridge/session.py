"""Routing between the local client (stdio) and the remote server (Streamable HTTP).

Client requests run concurrently, one task each; whatever the server sends
back on a request's stream (progress, logging, its own requests such as
sampling or elicitation, then the response) goes to stdout as it arrives.
``initialize``, notifications and the client's responses to server requests
are sent in order, before anything read after them. ``notifications/cancelled``
is forwarded and the local wait for that request dropped (the client expects
no answer). Each request is answered within ``timeout`` seconds of server
silence: by the server, or by a JSON-RPC error naming what went wrong. Nothing
but JSON-RPC reaches stdout; tracebacks go to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from mcp_auth_desktop.bridge.inputs import InputRelay
from mcp_auth_desktop.bridge.jsonrpc import (
    AUTH_ERROR,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    UPSTREAM_ERROR,
    error_message,
    failure,
    is_id,
    says_modern,
)
from mcp_auth_desktop.bridge.stdio import StdinReader, StdoutWriter
from mcp_auth_desktop.bridge.translate import EraTranslator, modern_version
from mcp_auth_desktop.bridge.upstream import ServerAnswered, SessionExpired, Upstream
from mcp_auth_desktop.core import errors, jsonutil
from mcp_auth_desktop.core.mcp.era import Era
from mcp_auth_desktop.core.tasks import cancel_and_wait

__all__ = ["BridgeSession", "AUTH_ERROR", "UPSTREAM_ERROR", "PARSE_ERROR", "INVALID_REQUEST"]

log = logging.getLogger(__name__)

_NOTIFY_TIMEOUT = 30.0


class BridgeSession:
    def __init__(
        self,
        upstream: Upstream,
        writer: StdoutWriter,
        *,
        timeout: float = 120.0,
        step_up: Callable[[tuple[str, ...], str], Awaitable[errors.McpAuthError]] | None = None,
        on_client_name: Callable[[str], None] | None = None,
        unavailable: errors.McpAuthError | None = None,
        era: EraTranslator | None = None,
    ) -> None:
        self.upstream = upstream
        self.era = era or EraTranslator()
        self._inputs = InputRelay(writer)
        #: The era the local client speaks, from its first request (None until then).
        self.client_era: Era | None = None
        #: The legacy session the bridge opened itself for a modern client (to_legacy).
        self._legacy_init: dict[str, Any] | None = None
        self._out = writer
        self.timeout = timeout
        self._step_up = step_up
        self._on_client_name = on_client_name
        #: Set when the bridge cannot work at all (server not added): every request gets this.
        self._unavailable = unavailable
        self._tasks: dict[Any, asyncio.Task[None]] = {}
        self._cancelled: set[Any] = set()
        self._listener: asyncio.Task[None] | None = None
        self._initialize: dict[str, Any] | None = None
        self._reinit_ids = itertools.count(1)

    # ---------------------------------------------------------------- main loop

    async def run(self, reader: StdinReader, stop: asyncio.Event | None = None) -> None:
        """Serve until stdin closes (or ``stop`` is set); then clean up."""
        stop = stop or asyncio.Event()
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                getter = asyncio.ensure_future(reader.queue.get())
                done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                line = getter.result()
                if line is None:
                    break
                await self._on_line(line)
        finally:
            stopper.cancel()
            await self.close()

    async def close(self) -> None:
        listener = [self._listener] if self._listener is not None else []
        await cancel_and_wait([*self._tasks.values(), *listener])
        self._tasks.clear()
        await self.upstream.end_session()

    async def _on_line(self, line: bytes) -> None:
        if not line:
            self._error(None, PARSE_ERROR, "Parse error: the message is too large.")
            return
        try:
            payload = jsonutil.loads(line)
        except errors.InvalidJsonError:
            self._error(None, PARSE_ERROR, "Parse error: the line is not valid JSON.")
            return
        for message in payload if isinstance(payload, list) else [payload]:
            await self._on_message(message)

    async def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            rid = message.get("id") if isinstance(message, dict) else None
            self._error(rid if is_id(rid) else None, INVALID_REQUEST, "Invalid request: not JSON-RPC 2.0.")
            return
        method = message.get("method")
        rid = message.get("id")
        if isinstance(method, str) and "id" in message:
            if not is_id(rid):
                self._error(None, INVALID_REQUEST, "Invalid request: the id must be a string or an integer.")
            elif self._unavailable is not None:
                self._error(rid, AUTH_ERROR, self._unavailable.user_message)
            elif method == "initialize":
                # In line: the session id it brings is needed by everything after it.
                self.client_era = Era.LEGACY
                self._initialize = message
                self.era.remember_initialize(message)
                await self._guarded(message, self._open_for_legacy_client(message))
            elif self.client_era is None and (method == "server/discover" or modern_version(message)):
                # In line too: it settles which era the server speaks.
                self.client_era = Era.MODERN
                self.era.remember_modern(message)
                await self._guarded(message, self._open_for_modern_client(message))
            elif self.era.mode == "to_modern" and (local := self.era.answer_locally(message)):
                self._out.write(local)  # a legacy method 2026-07-28 does not have
            else:
                self._tasks[rid] = asyncio.ensure_future(self._guarded(message, self._forward(message)))
            return
        if self._unavailable is not None:
            return
        if isinstance(method, str):
            if method == "notifications/cancelled":
                self._cancel_local(message.get("params"))
            if self._upstream_modern():
                return  # the 2026 HTTP wire has no client notifications; a cancel closes the stream
            await self._notify(self.era.to_legacy_request(message))
            if method == "notifications/initialized":
                self._start_listener()
            return
        if is_id(rid) and ("result" in message or "error" in message):
            if self._inputs.take(message):
                return  # the client's answer to input the bridge asked for (2026 server)
            await self._notify(message)  # the client's answer to a server request
            return
        self._error(None, INVALID_REQUEST, "Invalid request: neither a request, a notification nor a response.")

    # ----------------------------------------------------------------- requests

    async def _guarded(self, message: dict[str, Any], work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` for the client's request ``message``; whatever goes wrong, answer it."""
        rid = message["id"]
        try:
            await work
        except asyncio.CancelledError:
            if rid not in self._cancelled:
                raise
        except ServerAnswered as answered:
            self._out.write(answered.message)
        except errors.InsufficientScopeError as exc:
            message_text = exc.user_message
            if self._step_up is not None:
                message_text = (await self._step_up(exc.scopes, exc.user_message)).user_message
            self._error(rid, AUTH_ERROR, message_text, reason="insufficient_scope",
                        scopes=list(exc.scopes))
        except (TimeoutError, errors.McpAuthError) as exc:
            code, text, reason = failure(exc, self.upstream.where, self.timeout)
            self._error(rid, code, text, reason=reason)
        except Exception as exc:  # noqa: BLE001 - the client must get an answer, not a hang
            log.exception("forwarding %s failed unexpectedly", message.get("method"))
            self._error(rid, INTERNAL_ERROR, f"The bridge failed unexpectedly ({type(exc).__name__}).")
        finally:
            self._tasks.pop(rid, None)
            self._cancelled.discard(rid)

    def _upstream_modern(self) -> bool:
        return self.era.mode == "to_modern" or (self.era.mode == "same" and self.client_era is Era.MODERN)

    async def _forward(self, message: dict[str, Any]) -> None:
        """A request after the first: translated when the eras differ, answered by the server."""
        method = str(message.get("method"))
        if self.era.mode == "to_legacy" and method == "server/discover" and self._legacy_init is not None:
            self._out.write(self.era.discover_from_initialize(message, self._legacy_init))
            return
        outgoing = message
        if self.era.mode == "to_modern":
            outgoing = self.era.to_modern_request(message)
        elif self.era.mode == "to_legacy":
            outgoing = self.era.to_legacy_request(message)
        raw_params = outgoing.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        if method == "tools/call" and self._upstream_modern() and not self.era.knows_tool(params.get("name")):
            # 2026 servers check Mcp-Param-* headers, built from the tool's schema: a client
            # over stdio sends no headers, so learn the schemas before the first call.
            await self._learn_tools(params.get("_meta"))
        try:
            reply = await self._collect(outgoing)
        except SessionExpired:
            log.info("the server forgot the session; starting a new one")
            await self._reinitialize()
            reply = await self._collect(outgoing)
        self.era.learn(method, reply)
        if self.era.mode == "to_modern":
            reply = await self._inputs.rounds(self._collect, outgoing, reply, self.upstream.where,
                                              max(self.timeout, 600.0))
            relayed = self.era.to_legacy_reply(reply)
            if isinstance(relayed, str):
                self._error(message["id"], UPSTREAM_ERROR, relayed, reason="failed")
                return
            reply = relayed
        elif self.era.mode == "to_legacy":
            reply = self.era.to_modern_reply(method, reply)
        self._out.write(reply)

    async def _learn_tools(self, meta: Any) -> None:
        cursor: str | None = None
        for page in range(10):  # bounded: a server that pages forever cannot hold a call
            params: dict[str, Any] = {"_meta": meta} if isinstance(meta, dict) else {}
            if cursor:
                params["cursor"] = cursor
            reply = await self._collect({"jsonrpc": "2.0", "id": f"mcp-auth-bridge-tools-{page}",
                                         "method": "tools/list", "params": params})
            self.era.learn("tools/list", reply)
            result = reply.get("result")
            cursor = result.get("nextCursor") if isinstance(result, dict) else None
            if not isinstance(cursor, str) or not cursor:
                return

    async def _collect(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send a request; write what the server sends meanwhile; return its response."""
        rid = message["id"]
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout) as deadline:
            async with contextlib.aclosing(self.upstream.send(message, expect_id=rid)) as replies:
                async for item in replies:
                    # Silence, not length, is what is bounded: progress keeps a long call alive.
                    deadline.reschedule(loop.time() + self.timeout)
                    if "method" not in item and item.get("id") == rid:
                        return item
                    self._out.write(item)
        raise errors.McpProtocolError(
            f"The MCP server at {self.upstream.where} sent no response to {message.get('method')}."
        )

    async def _open_for_legacy_client(self, message: dict[str, Any]) -> None:
        """``initialize`` as is; a server that refuses it (auto) or a pinned modern upstream
        gets ``server/discover`` instead, and the client its answer as an initialize result."""
        refusal: dict[str, Any] | None = None
        if self.era.upstream_era != "modern":
            # Only a JSON-RPC refusal says "not this era"; HTTP 5xx or a dead connection
            # is an outage, answered as such.
            try:
                reply = await self._collect(message)
            except ServerAnswered as exc:
                reply = exc.message
            if "result" in reply or self.era.upstream_era == "legacy":
                if "result" in reply:
                    self._initialized(message, reply)
                self._out.write(reply)
                return
            refusal = reply
            log.info("the server refused initialize; asking server/discover")
        discover = await self._collect(self.era.discover_request(message["id"]))
        if "result" not in discover:
            self._out.write(refusal if refusal is not None else discover)
            return
        self.era.mode = "to_modern"
        self.upstream.session_id = None
        answer = self.era.initialize_from_discover(message, discover)
        self._initialized(message, answer)
        self.upstream.protocol_version = None  # modern requests carry theirs in headers
        self._out.write(answer)
        log.info("translating: legacy client, server speaks %s", self.era.modern_version)

    async def _open_for_modern_client(self, message: dict[str, Any]) -> None:
        """The first modern request as is; a legacy server (auto) or a pinned legacy upstream
        gets a session opened by the bridge, and the request is answered through it."""
        if self.era.upstream_era != "legacy":
            try:
                reply = await self._collect(message)
            except ServerAnswered as exc:
                if says_modern(exc.message):
                    raise
                reply = exc.message
            except errors.McpProtocolError:
                if self.era.upstream_era == "modern":
                    raise
                reply = {}
            if "result" in reply or self.era.upstream_era == "modern" or says_modern(reply):
                self.era.learn(str(message.get("method")), reply)
                self._out.write(reply)
                return
            log.info("the server refused a 2026-07-28 request; opening a legacy session for it")
        init = await self._collect(self.era.initialize_request(f"mcp-auth-bridge-init-{next(self._reinit_ids)}"))
        if "result" not in init:
            self._out.write({**init, "id": message["id"]})
            return
        self.era.mode = "to_legacy"
        self._initialize = self.era.initialize_request("mcp-auth-bridge-reinit")
        self._initialized(self._initialize, init)
        self._legacy_init = init
        await self._notify({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self._start_listener()
        await self._forward(message)

    def _take_version(self, reply: dict[str, Any]) -> None:
        """The revision an initialize answer settled on goes on every later request."""
        result = reply.get("result")
        if isinstance(result, dict) and isinstance(result.get("protocolVersion"), str):
            self.upstream.protocol_version = result["protocolVersion"]

    def _initialized(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        self._take_version(reply)
        params = request.get("params")
        info = params.get("clientInfo") if isinstance(params, dict) else None
        name = info.get("name") if isinstance(info, dict) else None
        if isinstance(name, str) and self._on_client_name is not None:
            self._on_client_name(errors.sanitize_server_text(name, 100))

    async def _reinitialize(self) -> None:
        """A new upstream session with the client's own initialize (its answer is not
        forwarded: the client already has one)."""
        if self._initialize is None:
            raise errors.McpProtocolError(
                f"The MCP server at {self.upstream.where} has no session for this client."
            )
        again = dict(self._initialize, id=f"mcp-auth-bridge-reinit-{next(self._reinit_ids)}")
        self.upstream.session_id = None
        self.upstream.protocol_version = None
        async with asyncio.timeout(self.timeout):
            async for item in self.upstream.send(again, expect_id=again["id"]):
                if item.get("id") == again["id"]:
                    self._take_version(item)
            async for _ in self.upstream.send({"jsonrpc": "2.0", "method": "notifications/initialized"}):
                pass

    # ----------------------------------------------------- notifications etc.

    async def _notify(self, message: dict[str, Any]) -> None:
        try:
            async with asyncio.timeout(_NOTIFY_TIMEOUT):
                async for item in self.upstream.send(message):
                    self._out.write(item)
        except SessionExpired:
            log.info("a notification found the session gone; the next request starts a new one")
        except (TimeoutError, errors.McpAuthError, ServerAnswered) as exc:
            # Notifications have no answer to carry an error: log it.
            text = exc.user_message if isinstance(exc, errors.McpAuthError) else type(exc).__name__
            log.warning("could not forward %s: %s", message.get("method", "a response"), text)

    def _cancel_local(self, params: Any) -> None:
        rid = params.get("requestId") if isinstance(params, dict) else None
        task = self._tasks.get(rid) if is_id(rid) else None
        if task is not None:
            self._cancelled.add(rid)
            task.cancel()

    def _start_listener(self) -> None:
        if self._listener is None and self.upstream.get_stream_supported:
            self._listener = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        try:
            async for item in self.upstream.listen():
                self._out.write(item)
        except asyncio.CancelledError:
            raise
        except errors.McpAuthError as exc:
            log.warning("the server's event stream ended: %s", exc.user_message)
        except Exception:  # noqa: BLE001 - a background task must not die silently
            log.exception("the server's event stream failed")

    def _error(self, rid: Any, code: int, text: str, **data: Any) -> None:
        self._out.write(error_message(rid, code, text, self.upstream.where, **data))
