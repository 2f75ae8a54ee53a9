"""An OAuth resource-server gateway in front of an unmodified third-party MCP server.

The era interop servers (the reference ``server-everything`` and a server on the
official Python SDK) have no authorization of their own, and ``mcp-auth`` only
talks to servers that sign people in. So they sit behind this gateway, as such
servers are deployed behind an API gateway: it publishes the protected resource
metadata (naming our mock authorization server), answers 401 with a Bearer
challenge when the token is missing or invalid (checked as a JWT against the
authorization server's JWKS: signature, ``iss``, ``aud`` = this resource, expiry),
and otherwise forwards the request and streams the answer back byte for byte.
The MCP exchange itself, headers included, is the third-party server's; the
token is not passed on (no token passthrough).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import anyio
import httpx
import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

# Hop-by-hop headers (RFC 9110 §7.6.1) and what the gateway itself decides.
_DROP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
     "host", "authorization", "content-length"}
)


@dataclass
class Gateway:
    upstream: str
    issuer: str
    base_url: str = ""
    forwarded: list[str] = field(default_factory=list)
    refused: int = 0

    @property
    def mcp_url(self) -> str:
        return self.base_url + "/mcp"

    @property
    def prm_url(self) -> str:
        return self.base_url + "/.well-known/oauth-protected-resource/mcp"

    def app(self) -> Starlette:
        self._jwks = jwt.PyJWKClient(self.issuer + "/jwks.json", cache_keys=True)

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with httpx.AsyncClient(timeout=60, trust_env=False) as self._http:
                yield

        return Starlette(
            routes=[
                Route("/.well-known/oauth-protected-resource/mcp", self.prm, methods=["GET"]),
                Route("/mcp", self.mcp, methods=["GET", "POST", "DELETE"]),
            ],
            lifespan=lifespan,
        )

    async def prm(self, request: Request) -> Response:
        return JSONResponse({"resource": self.mcp_url, "authorization_servers": [self.issuer]})

    def _valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        token = authorization.removeprefix("Bearer ")
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key
            jwt.decode(token, key, algorithms=["ES256", "RS256"], audience=self.mcp_url, issuer=self.issuer)
        except jwt.PyJWTError:
            return False
        return True

    async def mcp(self, request: Request) -> Response:
        if not await asyncio.to_thread(self._valid, request.headers.get("authorization")):
            self.refused += 1
            return Response(
                status_code=401,
                headers={"WWW-Authenticate": f'Bearer resource_metadata="{self.prm_url}"'},
            )
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP]
        body = await request.body()
        self.forwarded.append(request.method)
        upstream = self._http.build_request(request.method, self.upstream, headers=headers, content=body)
        resp = await self._http.send(upstream, stream=True)
        out = {k: v for k, v in resp.headers.items() if k.lower() not in _DROP}

        async def body() -> AsyncIterator[bytes]:
            # Closed here even when the client went away mid-stream (Starlette then cancels
            # us): an abandoned upstream stream would be finalised later, on no loop.
            try:
                async with contextlib.aclosing(resp.aiter_raw()) as chunks:
                    async for chunk in chunks:
                        yield chunk
            finally:
                with anyio.CancelScope(shield=True):
                    await resp.aclose()

        return StreamingResponse(body(), status_code=resp.status_code, headers=out)


@contextlib.contextmanager
def serving(gateway: Gateway) -> Iterator[Gateway]:
    """Run the gateway on 127.0.0.1 in a thread of its own for the ``with`` block."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    gateway.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(gateway.app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.02)
        yield gateway
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
