"""ASGI middleware: Host allow-list, request body caps, and CORS on the public endpoints only."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORS_ALLOW_HEADERS = "Authorization, Content-Type, MCP-Protocol-Version"


async def _send_simple(send: Send, status: int, body: dict[str, str], headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class GuardMiddleware:
    """Rejects foreign Host headers (DNS rebinding) with 421 and oversized bodies with 413.

    The body is read here, up to the cap for the path, and replayed to the app, so a
    chunked upload cannot slip past a Content-Length check.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Collection[str],
        body_limit: Callable[[str], int],
    ) -> None:
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = [v for k, v in scope["headers"] if k == b"host"]
        if len(hosts) != 1 or hosts[0].decode("latin-1").lower() not in self.allowed_hosts:
            await _send_simple(send, 421, {"error": "misdirected_request", "error_description": "Host not allowed"})
            return
        limit = self.body_limit(scope["path"])
        for k, v in scope["headers"]:
            if k == b"content-length":
                if not (v.isascii() and v.isdigit()) or int(v) > limit:
                    await _send_simple(send, 413, {"error": "invalid_request", "error_description": "Request body too large"})
                    return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_simple(send, 413, {"error": "invalid_request", "error_description": "Request body too large"})
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class CorsMiddleware:
    """CORS for browser-based clients on metadata, token and registration endpoints only.

    No credentials are ever allowed (no cookies cross origins); every other path, including
    /authorize and /mcp, never carries CORS headers.
    """

    def __init__(self, app: ASGIApp, *, is_cors_path: Callable[[str], bool]) -> None:
        self.app = app
        self.is_cors_path = is_cors_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.is_cors_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k: v for k, v in scope["headers"]}
        origin = headers.get(b"origin")
        if scope["method"] == "OPTIONS" and origin is not None and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", b"*"),
                        (b"access-control-allow-methods", b"GET, POST, PUT, DELETE"),
                        (b"access-control-allow-headers", CORS_ALLOW_HEADERS.encode()),
                        (b"access-control-max-age", b"600"),
                        (b"vary", b"Origin"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if origin is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[Any] = [
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", b"WWW-Authenticate, Retry-After"),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
