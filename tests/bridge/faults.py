"""A loopback HTTP/1.1 proxy in front of the mock server that breaks on request.

The mock runs with ``--public-url`` set to the proxy, so the server's URL in the app (and
every URL the mock advertises) is the proxy's, and tests can make "the server" misbehave
the way real ones do, one POST to /mcp at a time:

* ``"500"``: answer ``HTTP 500`` with an HTML body;
* ``"drop"``: read the request, then close the connection without a byte;
* ``"close_stream"``: answer ``200 text/event-stream``, send a keep-alive comment and
  end the stream without the response;
* ``"hang"``: read the request and never answer (until the proxy stops);
* ``"404"``: answer ``404`` as a server does for a session it no longer knows.

Everything else is relayed to the mock unchanged (one upstream connection per request,
responses streamed through as they come). Our own test infrastructure, not an imitation of
a third-party component.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs

from tests.mock.helpers import MockProcess, start_mock_process


class FaultProxy:
    def __init__(self, upstream_port: int, *, mcp_port: int | None = None) -> None:
        self._up_host = "127.0.0.1"
        self._up_port = upstream_port
        #: When set, /mcp goes to this port (another MCP server) and the rest to the mock.
        self.mcp_port = mcp_port
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        # Handler tasks, held strongly: once the client's side is lost, asyncio drops its own
        # reference to the task, and a handler awaiting the *upstream* reader (held only weakly
        # by its protocol) would be garbage-collected mid-await, leaking both sockets.
        self._handlers: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0
        self.seen: list[str] = []  # "METHOD fault" per request, for assertions
        #: The MCP-Protocol-Version header of every request to /mcp ("" when absent).
        self.versions: list[str] = []
        #: (monotonic time, grant_type) of every POST to the token endpoint.
        self.token_posts: list[tuple[float, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(10)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            # Connections accepted meanwhile start new handler tasks: repeat until none is left.
            for _ in range(10):
                # A handler task cancelled before its first step never runs its `finally`, so
                # its socket is never closed (a ResourceWarning, an error under pytest): let
                # every scheduled handler start before cancelling it.
                for _ in range(3):
                    await asyncio.sleep(0)
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                if not tasks:
                    break
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            if self._server is not None:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            # writer.close() only starts closing: the transport lets go of its socket in a
            # callback on a later loop iteration, which must run before the loop stops.
            await asyncio.sleep(0.05)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        # A connection accepted at the last moment may still have its handler: end it here.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            # Their writers' close() released the sockets only in callbacks: run those too.
            self._loop.run_until_complete(asyncio.sleep(0.05))
        self._loop.close()

    def fail_next_posts(self, fault: str, count: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    def _take(self, method: str, path: str) -> str:
        with self._lock:
            if method == "POST" and path == "/mcp" and self._faults:
                return self._faults.pop(0)
        return "pass"

    async def _read_request(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes, str] | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = await reader.readexactly(length) if length else b""
        method, path = head.split(b" ", 2)[:2]
        return head, body, f"{method.decode()} {path.decode()}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    return
                head, body, what = request
                method, path = what.split(" ", 1)
                fault = self._take(method, path)
                self.seen.append(f"{what} {fault}")
                if path.split("?")[0] == "/mcp":
                    self.versions.append(_header(head, b"mcp-protocol-version"))
                if method == "POST" and path.endswith("/token"):
                    form = parse_qs(body.decode("ascii", "replace"))
                    self.token_posts.append((time.monotonic(), (form.get("grant_type") or ["?"])[0]))
                if fault == "drop":
                    return
                if fault == "hang":
                    await asyncio.sleep(3600)
                    return
                if fault == "500":
                    page = b"<html><body>Internal Server Error</body></html>"
                    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n"
                                 b"Content-Length: " + str(len(page)).encode() + b"\r\n\r\n" + page)
                    await writer.drain()
                    continue
                if fault == "404":
                    page = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Session not found"}}'
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: " + str(len(page)).encode() + b"\r\n\r\n" + page)
                    await writer.drain()
                    continue
                if fault == "close_stream":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                 b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n: waiting\n\n")
                    await writer.drain()
                    return
                port = self.mcp_port if self.mcp_port and path.split("?")[0] == "/mcp" else self._up_port
                await self._relay(head, body, writer, port)
                return  # Connection: close upstream; the client reconnects
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            self._handlers.discard(task)

    async def _relay(self, head: bytes, body: bytes, writer: asyncio.StreamWriter, port: int) -> None:
        up_reader, up_writer = await asyncio.open_connection(self._up_host, port)
        try:
            await self._pump(head, body, up_reader, up_writer, writer)
        finally:
            up_writer.close()

    @staticmethod
    async def _pump(head: bytes, body: bytes, up_reader: asyncio.StreamReader,
                    up_writer: asyncio.StreamWriter, writer: asyncio.StreamWriter) -> None:
        # The Host header stays the proxy's: it is the mock's public URL.
        lines = [
            line for line in head.rstrip(b"\r\n").split(b"\r\n")
            if not line.lower().startswith(b"connection:")
        ]
        lines.append(b"Connection: close")
        up_writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await up_writer.drain()
        while chunk := await up_reader.read(65536):
            writer.write(chunk)
            await writer.drain()


def _header(head: bytes, name: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextmanager
def mock_behind_proxy(*flags: str) -> Iterator[tuple[MockProcess, FaultProxy]]:
    """A mock server process whose public URL is a FaultProxy in front of it."""
    port = free_port()
    proxy = FaultProxy(port).start()
    try:
        mock = start_mock_process("--port", str(port), "--public-url", proxy.base_url, *flags)
        try:
            yield mock, proxy
        finally:
            mock.stop()
    finally:
        proxy.stop()


@contextmanager
def sdk_server_behind_proxy() -> Iterator[tuple[MockProcess, FaultProxy]]:
    """The mock server (signs in) and an official-SDK MCP server (serves /mcp) behind one proxy."""
    sdk_port = free_port()
    sdk = subprocess.Popen([sys.executable, str(Path(__file__).with_name("sdk_server.py")), str(sdk_port)],
                           cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", sdk_port), timeout=1).close()
                break
            except OSError:
                assert sdk.poll() is None and time.monotonic() < deadline, "the SDK server did not start"
                time.sleep(0.1)
        with mock_behind_proxy("--auto-approve") as (mock, proxy):
            proxy.mcp_port = sdk_port
            yield mock, proxy
    finally:
        sdk.terminate()
        sdk.wait(10)
