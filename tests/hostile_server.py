"""Real loopback HTTP(S) servers that misbehave on purpose, for error-cause tests.

:class:`HostileServer` runs a Starlette app under uvicorn in a thread of its
own (so sync CLI tests and async core tests can both use it) on
``127.0.0.1`` and a free port, plain http or https with a self-signed
certificate. Each misbehaviour has a name (``CASES``) and is reachable two
ways:

* ``/h/CASE/mcp`` answers every request with 401 and a ``WWW-Authenticate``
  whose ``resource_metadata`` is the misbehaving URL (``header_target``);
* ``/w/CASE/mcp`` answers 401 without ``resource_metadata``, and its
  path-inserted well-known PRM URL misbehaves (discovery without a challenge).

Misbehaviours served here: ``bomb`` (gzip that expands to 64 MB), ``endless``
(a JSON body that never ends), ``huge`` (a declared 8 MB body), ``deep``
(JSON nested 5,000 levels), ``loop`` (a redirect to itself), ``hops`` (an
endless chain of redirects), ``down`` (HTTP 503). Those that need another host are targets only:
``private`` and ``linklocal`` (refused addresses), ``dns`` (a ``.invalid``
name), ``refused`` (a closed port on 127.0.0.1), ``tls`` (a self-signed https
server on 127.0.0.1, given as ``tls_url``).
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import tempfile
import threading
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from mock_server.tls import write_self_signed

SERVED = ("bomb", "endless", "huge", "deep", "loop", "hops", "down")
TARGETS = ("private", "linklocal", "dns", "refused", "tls")
CASES = SERVED + TARGETS
BOMB_EXPANDED = 64 * 1024 * 1024


@cache
def _bomb() -> bytes:
    # 64 MB of JSON whitespace inside an object: ~64 KB on the wire.
    return gzip.compress(b'{"resource": "x"' + b" " * BOMB_EXPANDED + b"}", compresslevel=9)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _misbehave(case: str, request: Request) -> Response:
    if case == "bomb":
        return Response(
            _bomb(), headers={"content-type": "application/json", "content-encoding": "gzip"}
        )
    if case == "endless":

        async def forever() -> AsyncIterator[bytes]:
            yield b'{"resource": "'
            while True:
                yield b"x" * 65536
                await asyncio.sleep(0)

        return StreamingResponse(forever(), media_type="application/json")
    if case == "huge":
        return Response(b" " * (8 * 1024 * 1024), media_type="application/json")
    if case == "deep":
        return Response(b'{"a":' * 5000 + b"1" + b"}" * 5000, media_type="application/json")
    if case == "loop":
        return RedirectResponse(str(request.url.replace(query="")), status_code=302)
    if case == "hops":
        n = int(request.query_params.get("n", "0"))
        return RedirectResponse(str(request.url.include_query_params(n=n + 1)), status_code=302)
    if case == "down":
        return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
    return JSONResponse({"error": "not_found"}, status_code=404)


class HostileServer:
    """Start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(self, *, tls: bool = False) -> None:
        self.tls = tls
        self.port = 0
        self.refused_port = closed_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="hostile-")
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._tls_peer: HostileServer | None = None

    # -- URLs ---------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def mcp_url(self, case: str, *, header: bool = True) -> str:
        return f"{self.base}/{'h' if header else 'w'}/{case}/mcp"

    @property
    def tls_url(self) -> str:
        assert self._tls_peer is not None
        return f"{self._tls_peer.base}/prm"

    def header_target(self, case: str) -> str:
        """The resource_metadata URL the 401 of ``/h/CASE/mcp`` names."""
        if case in SERVED:
            return f"{self.base}/prm/{case}"
        return {
            "private": "https://10.20.30.40/.well-known/oauth-protected-resource",
            "linklocal": "https://169.254.169.254/latest/meta-data",
            "dns": "https://prm.nothing.invalid/.well-known/oauth-protected-resource",
            "refused": f"http://127.0.0.1:{self.refused_port}/prm",
            "tls": self.tls_url if self._tls_peer else "",
        }[case]

    # -- app ----------------------------------------------------------------------------
    def _app(self) -> Starlette:
        async def challenge(request: Request) -> Response:
            kind, case = request.path_params["kind"], request.path_params["case"]
            value = "Bearer"
            if kind == "h":
                value += f' resource_metadata="{self.header_target(case)}"'
            return JSONResponse({"error": "invalid_token"}, 401, headers={"WWW-Authenticate": value})

        async def prm(request: Request) -> Response:
            return await _misbehave(request.path_params["case"], request)

        async def well_known(request: Request) -> Response:
            return await _misbehave(request.path_params["case"], request)

        async def plain(request: Request) -> Response:
            return JSONResponse({"resource": self.base})

        return Starlette(
            routes=[
                Route("/{kind:str}/{case:str}/mcp", challenge, methods=["GET", "POST"]),
                Route("/prm/{case:str}", prm),
                Route("/.well-known/oauth-protected-resource/w/{case:str}/mcp", well_known),
                Route("/prm", plain),
            ]
        )

    # -- life ---------------------------------------------------------------------------
    def start(self) -> HostileServer:
        if not self.tls:
            self._tls_peer = HostileServer(tls=True).start()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        kwargs: dict[str, object] = {}
        if self.tls:
            cert, key = Path(self._tmp.name, "cert.pem"), Path(self._tmp.name, "key.pem")
            write_self_signed(cert, key)
            kwargs = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        config = uvicorn.Config(self._app(), log_level="critical", lifespan="off", **kwargs)  # type: ignore[arg-type]
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            asyncio.run(server.serve(sockets=[sock]))

        self._thread = threading.Thread(target=run, name=f"hostile-{self.port}", daemon=True)
        self._thread.start()
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("the hostile server did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._tls_peer is not None:
            self._tls_peer.stop()
        self._tmp.cleanup()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
