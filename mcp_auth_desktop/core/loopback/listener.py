"""The listener itself: the socket, its connections and the sign-in it serves.

See the package docstring for what it guarantees; which requests it answers
is decided in :mod:`.validation`, what it answers with in :mod:`.pages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from types import TracebackType

from mcp_auth_desktop.core.errors import (
    AuthorizationTimeout,
    ConfigurationError,
    McpAuthError,
)

from . import validation
from .binding import bind_socket, check_address
from .pages import APP_NAME, encode_response, render_page
from .validation import NOT_ACCEPTED, BadRequest

__all__ = ["LoopbackListener", "MAX_CONNECTIONS", "MAX_HEAD_BYTES", "READ_TIMEOUT"]

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8 * 1024
#: Concurrent connections served. A slot costs a socket and a small task, so there are
#: enough for a burst of requests arriving together to be answered rather than evicted
#: (eviction only makes room when the table is full).
MAX_CONNECTIONS = 128
#: A browser sends its request head at once; anything slower is cut off here.
READ_TIMEOUT = 3.0
#: After answering a refused request: how long the reply may take to leave before
#: the connection is closed anyway (reading what the client still sends avoids a
#: reset that would hide the reply, but never for longer than this).
REFUSED_LINGER = 0.5
#: The Location of the start page: visible ASCII only (no CR/LF header injection).
_LOCATION_OK = re.compile(r"https?://[\x21-\x7e]+\Z")


class LoopbackListener:
    """One loopback redirect endpoint; see the package docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/callback",
        timeout: float = 300.0,
        read_timeout: float = READ_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        report_wait: float = 15.0,
    ) -> None:
        ip = check_address(host, port, path)
        self._host = str(ip)
        self._ipv6 = ip.version == 6
        self._requested_port = port
        self._path = path
        self._timeout = timeout
        self._read_timeout = read_timeout
        self._max_connections = max_connections
        self._report_wait = report_wait
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        #: Connections that are not the real callback, oldest first: evicted when all
        #: slots are taken, so a flood (slow or complete bad requests) cannot lock out
        #: the browser's redirect.
        self._evictable: dict[asyncio.Task[None], None] = {}
        #: Of those, the ones already answered and only lingering: evicted first.
        self._answered: dict[asyncio.Task[None], None] = {}
        self._closing = False
        self._expected: str | None = None
        self._deadline: float | None = None
        self._result: asyncio.Future[dict[str, str]] | None = None
        self._report: tuple[bool, str] | None = None
        self._report_event = asyncio.Event()
        self._start_token: str | None = None
        self._start_target: str | None = None
        #: Start tokens already handed out and used or replaced: a request for one ends the sign-in.
        self._spent_tokens: list[str] = []

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> LoopbackListener:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Bind and start serving; ConfigurationError when the port cannot be used."""
        if self._server is not None:
            return
        sock = bind_socket(self._host, self._requested_port, ipv6=self._ipv6)
        self._server = await asyncio.start_server(self._on_connection, sock=sock, limit=MAX_HEAD_BYTES)
        self._port = int(sock.getsockname()[1])
        log.debug("callback listener on %s port %d", self._host, self._port)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the listener is not started")
        return self._port

    @property
    def host(self) -> str:
        return self._host

    @property
    def path(self) -> str:
        return self._path

    @property
    def redirect_uri(self) -> str:
        """``http://<bound IP literal>:<bound port><path>``."""
        host = f"[{self._host}]" if self._ipv6 else self._host
        return f"http://{host}:{self.port}{self._path}"

    @property
    def is_serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    def _close_now(self) -> None:
        """Stop listening and drop every connection, without waiting."""
        self._closing = True
        self._report_event.set()
        if self._server is not None:
            self._server.close()
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def aclose(self, grace: float = 2.0) -> None:
        """Close the port; a page being served gets ``grace`` seconds to finish."""
        self._close_now()
        handlers = [t for t in self._handlers if t is not asyncio.current_task()]
        if handlers:
            _done, pending = await asyncio.wait(handlers, timeout=grace)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=1.0)

    # -- the flow's side -----------------------------------------------------------

    def expect_state(self, state: str) -> None:
        """Arm the listener for one authorization request with this ``state``."""
        if not state:
            raise ValueError("state must not be empty")
        loop = asyncio.get_running_loop()
        self._expected = state
        self._spend_start_token()
        self._deadline = loop.time() + self._timeout
        self._report = None
        self._report_event = asyncio.Event()
        if self._result is None or self._result.done():
            self._result = loop.create_future()

    def start_page(self, authorization_url: str) -> str:
        """A single-use loopback address that redirects (302) to ``authorization_url``.

        Hand this to the browser instead of the authorization URL, whose ``state``
        and ``code_challenge`` would otherwise sit in the browser's argv.
        """
        if self._result is None or self._result.done():
            raise RuntimeError("call expect_state() before start_page()")
        if not _LOCATION_OK.match(authorization_url):
            raise ConfigurationError(
                "The sign-in address contains characters that cannot be sent as a redirect."
            )
        self._spend_start_token()
        self._start_token = secrets.token_urlsafe(24)
        self._start_target = authorization_url
        host = f"[{self._host}]" if self._ipv6 else self._host
        return f"http://{host}:{self.port}{validation.START_PREFIX}{self._start_token}"

    def _spend_start_token(self) -> None:
        if self._start_token is not None:
            self._spent_tokens.append(self._start_token)
        self._start_token = None
        self._start_target = None

    def _pending(self) -> bool:
        return self._expected is not None and self._result is not None and not self._result.done()

    def _fail(self, error: McpAuthError) -> None:
        """End the pending sign-in now with ``error`` (wait() raises it)."""
        result = self._result
        self._expected = None
        self._spend_start_token()
        if result is not None and not result.done():
            result.set_exception(error)

    async def wait(self) -> dict[str, str]:
        """The query parameters of the first request on the path whose ``state`` matches.

        Raises AuthorizationTimeout (and closes the port) when nobody comes back
        in time, StateMismatchError when a callback with a wrong or missing
        ``state`` arrived, StartPageReusedError when the start page was requested
        twice; cancelling the wait also closes the port.
        """
        if self._result is None or self._deadline is None:
            raise RuntimeError("call expect_state() before wait()")
        remaining = self._deadline - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), max(remaining, 0.0))
        except TimeoutError:
            self._close_now()
            minutes = self._timeout / 60
            raise AuthorizationTimeout(
                f"Sign-in was not completed in the browser within {minutes:g} minutes. "
                "Start the sign-in again when you are ready."
            ) from None
        except asyncio.CancelledError:
            self._close_now()
            raise

    def report(self, ok: bool, message: str) -> None:
        """Set the page shown to the browser for the request that delivered the result."""
        self._report = (ok, message)
        self._report_event.set()

    # -- the browser's side ---------------------------------------------------------

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._handlers) >= self._max_connections and self._evictable:
            # All slots taken: a connection that is not the real callback makes room
            # (one already answered first, else the oldest), so the browser's redirect
            # still gets in under a flood.
            oldest = next(iter(self._answered or self._evictable))
            self._evictable.pop(oldest, None)
            self._answered.pop(oldest, None)
            self._handlers.discard(oldest)
            oldest.cancel()
        if self._closing or len(self._handlers) >= self._max_connections or task is None:
            writer.close()
            return
        self._handlers.add(task)
        self._evictable[task] = None
        try:
            await self._serve(reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.CancelledError, TimeoutError):
            # Cancelled: evicted or closing. The listener's own close path owns cancellation.
            pass
        finally:
            self._handlers.discard(task)
            self._evictable.pop(task, None)
            self._answered.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=1.0)

    async def _read_head(self, reader: asyncio.StreamReader) -> bytes | None:
        """The request head, or None when the connection should just be dropped."""
        try:
            async with asyncio.timeout(self._read_timeout):
                return await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise BadRequest(431, "Request too large", NOT_ACCEPTED) from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise BadRequest(400, "Bad request", NOT_ACCEPTED) from None
            return None
        except TimeoutError:
            log.debug("callback listener: dropped a connection that sent no complete request in time")
            return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await self._read_head(reader)
            if head is None:
                return
            routed = self._route(head)
        except BadRequest as bad:
            log.debug("callback listener: refused a request (%d %s)", bad.status, bad.heading)
            if bad.ends is not None:
                log.info("callback listener: %s; the sign-in was stopped", bad.heading)
                self._fail(bad.ends)
            await self._send(writer, bad.status, render_page("error", bad.heading, bad.message), linger=reader)
            return
        if isinstance(routed, str):  # the start page: on to the authorization server
            page = render_page("info", "Continue to sign in", "Your browser is being sent to the sign-in page.")
            await self._send(writer, 302, page, location=routed)
            return
        result = self._result
        if result is None or result.done():
            # Cannot happen (no await since _route saw a pending flow), but never
            # leave a browser without an answer.
            await self._send(writer, 400, render_page("error", "Bad request", NOT_ACCEPTED))
            return
        task = asyncio.current_task()
        if task is not None:
            self._evictable.pop(task, None)  # the real callback: never evicted
        self._expected = None  # single use: a replay or reload now gets a 400
        self._spend_start_token()
        result.set_result(routed)
        await self._send(writer, 200, await self._final_page())

    def _route(self, head: bytes) -> str | dict[str, str]:
        """The start page's target (str) or the callback's params (dict); else BadRequest."""
        literal = f"[{self._host}]" if self._ipv6 else self._host
        target = validation.check_navigation(head, f"{literal}:{self._port}")
        path, _, query = target.partition("?")
        if path.startswith(validation.START_PREFIX):
            authorization_url = validation.check_start(
                path[len(validation.START_PREFIX):],
                query,
                current=self._start_token,
                target=self._start_target,
                pending=self._pending(),
                spent=self._spent_tokens,
            )
            self._spend_start_token()  # single use
            return authorization_url
        if path != self._path:
            raise BadRequest(404, "Not found", NOT_ACCEPTED)
        params = validation.parse_callback_query(query)
        return validation.check_callback_state(params, self._expected, self._pending())

    async def _final_page(self) -> str:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._report_wait):
                await self._report_event.wait()
        if self._report is None:
            return render_page("info", "Sign-in response received", f"Return to {APP_NAME} to see the result.")
        ok, message = self._report
        if ok:
            return render_page("ok", "Signed in", message)
        return render_page("error", "Sign-in failed", message)

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: str,
        *,
        location: str | None = None,
        linger: asyncio.StreamReader | None = None,
    ) -> None:
        writer.write(encode_response(status, body, location=location))
        async with asyncio.timeout(self._read_timeout):
            await writer.drain()
        if linger is not None and writer.can_write_eof():
            # Half-close, then briefly swallow what the client is still sending, so the
            # kernel does not answer unread bytes with a reset that hides our reply.
            # Bounded in time: a refused client never holds its slot for long.
            writer.write_eof()
            task = asyncio.current_task()
            if task is not None and task in self._evictable:
                self._answered[task] = None
            with contextlib.suppress(Exception):
                async with asyncio.timeout(REFUSED_LINGER):
                    for _ in range(64):
                        if not await linger.read(16 * 1024):
                            break

