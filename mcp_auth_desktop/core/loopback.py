"""The loopback redirect listener of a native OAuth client (RFC 8252 §7.3).

A tiny HTTP/1.1 server on asyncio streams, written out by hand because it
faces hostile local traffic (other processes, web pages doing DNS rebinding,
browser prefetches) and must stay small enough to audit:

* binds a loopback IP literal only, on an ephemeral port unless the user
  fixed one; the redirect URI is built from the address actually bound;
* accepts ``GET <path>`` with a ``Host`` of exactly the bound literal and
  port (``127.0.0.1:<port>``; never ``localhost``, which DNS or a hosts file
  could send elsewhere), no ``Origin`` and, when the browser says, a top-level
  navigation (``Sec-Fetch-Dest: document``); anything else gets a 4xx, is
  closed at once and the pending sign-in carries on;
* a well-formed callback whose ``state`` is wrong or missing ends the pending
  sign-in at once with :class:`StateMismatchError` (a possible cross-site
  request forgery) and the page says so; only the matching ``state`` delivers;
* serves a single-use start page (``/start/<random>``) that redirects (302) to
  the authorization URL, so the browser's command line only ever carries that
  loopback address, never ``state`` or ``code_challenge`` (readable by other
  local users in the process list); a second request for it is refused and
  ends the sign-in with :class:`StartPageReusedError`;
* denial of service: caps the request head (8 KiB), reads it under a short
  per-connection deadline (slowloris), answers bad requests and closes them
  at once (a short linger only lets the reply reach the client), and when all
  connection slots are taken evicts the oldest connection that is not the
  real callback, so a flood of bad requests cannot keep the browser out;
* answers with a page rendered from ``resources/templates/callback.html``,
  every value HTML-escaped, never the code, with ``no-store``,
  ``no-referrer``, ``nosniff`` and a CSP that allows no script, frame or fetch;
* closes the port on success (when the flow leaves the ``async with``),
  error, cancellation and timeout.

Typical use::

    async with LoopbackListener() as lst:
        lst.expect_state(state)
        open_browser(lst.start_page(authorization_url(redirect_uri=lst.redirect_uri, state=state)))
        params = await lst.wait()       # query of the redirect, state already checked
        ...                             # check iss, exchange the code
        lst.report(True, "Signed in.")  # the page the browser shows
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import re
import secrets
import socket
import sys
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from mcp_auth_desktop.core.errors import (
    AuthorizationTimeout,
    ConfigurationError,
    McpAuthError,
    StartPageReusedError,
    StateMismatchError,
)
from mcp_auth_desktop.core.loopback_http import (
    APP_NAME,
    NOT_ACCEPTED,
    REASONS,
    SECURITY_HEADERS,
    BadRequest,
    parse_head,
    render_page,
)

__all__ = [
    "LoopbackListener",
    "SECURITY_HEADERS",
    "START_PREFIX",
    "STATE_MISMATCH_MESSAGE",
    "START_REUSED_MESSAGE",
    "is_start_page",
    "render_page",
]

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8 * 1024
MAX_QUERY_FIELDS = 32
#: Concurrent connections served. A slot costs a socket and a small task, so there are
#: enough for a burst of requests arriving together to be answered rather than evicted
#: (eviction only makes room when the table is full).
MAX_CONNECTIONS = 128
#: Path prefix of the single-use start page; a random token follows.
START_PREFIX = "/start/"
#: A browser sends its request head at once; anything slower is cut off here.
READ_TIMEOUT = 3.0
#: After answering a refused request: how long the reply may take to leave before
#: the connection is closed anyway (reading what the client still sends avoids a
#: reset that would hide the reply, but never for longer than this).
REFUSED_LINGER = 0.5
#: A percent sign not followed by two hex digits: malformed, not a state mismatch.
_BROKEN_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
#: The Location of the start page: visible ASCII only (no CR/LF header injection).
_LOCATION_OK = re.compile(r"https?://[\x21-\x7e]+\Z")

STATE_MISMATCH_MESSAGE = (
    "The sign-in response did not match this sign-in: its state was missing or wrong, "
    "which is what a cross-site request forgery attempt looks like. The sign-in was "
    f"stopped and nothing was stored. Start the sign-in again from {APP_NAME}."
)
START_REUSED_MESSAGE = (
    "The sign-in start page was opened a second time (by a copied link, the back button "
    "or another program), so the sign-in was stopped for safety and nothing was stored. "
    f"Start the sign-in again from {APP_NAME}."
)


def is_start_page(url: str) -> bool:
    """Whether ``url`` is a listener's start page (for headless user agents that follow it)."""
    try:
        parts = urlsplit(url)
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return False
    return parts.scheme == "http" and loopback and parts.path.startswith(START_PREFIX)


class LoopbackListener:
    """One loopback redirect endpoint; see the module docstring."""

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
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise ConfigurationError(
                f"The callback listener must bind a loopback IP address such as 127.0.0.1, not {host!r}."
            ) from None
        if not ip.is_loopback:
            raise ConfigurationError(
                f"The callback listener must bind a loopback IP address such as 127.0.0.1, not {host!r}."
            )
        if not 0 <= port <= 65535:
            raise ConfigurationError(f"The callback port must be between 1 and 65535, not {port}.")
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ConfigurationError(f"The callback path must start with '/', got {path!r}.")
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

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if self._ipv6 else socket.AF_INET, socket.SOCK_STREAM)
        try:
            if sys.platform == "win32":
                # Windows lets another process bind the same port with SO_REUSEADDR
                # unless we claim it exclusively (RFC 8252 §8.3 port hijack).
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined,unused-ignore]
            else:
                # POSIX SO_REUSEADDR only skips the TIME_WAIT leftovers of an earlier
                # sign-in (Linux needs it on both sockets, so on ephemeral ones too);
                # it never lets a second socket bind a port that is listening.
                # SO_REUSEPORT, which would, is never set.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
            # A deep backlog: a flood of connections must not push the browser's
            # SYN into retransmission (seconds) before we can accept and evict.
            sock.listen(512)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if self._requested_port:
                raise ConfigurationError(
                    f"The callback port {self._requested_port} is in use by another program "
                    f"(or cannot be used: {exc.strerror}). Close that program, choose another "
                    "callback port in the server's settings, or leave the port empty to use "
                    "a free one."
                ) from None
            raise ConfigurationError(
                f"Could not open a callback listener on {self._host}: {exc.strerror}."
            ) from None
        return sock

    async def start(self) -> None:
        """Bind and start serving; ConfigurationError when the port cannot be used."""
        if self._server is not None:
            return
        sock = self._bind()
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
        return f"http://{host}:{self.port}{START_PREFIX}{self._start_token}"

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
        method, target, headers = parse_head(head)
        port = self._port
        literal = f"[{self._host}]" if self._ipv6 else self._host
        # The AS redirects to the redirect URI, which names the IP literal; a
        # request naming anything else did not come from that redirect.
        if headers.get("host", "").lower() != f"{literal}:{port}":
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        if "origin" in headers:
            # A top-level redirect carries no Origin; a script on some web page does.
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        if headers.get("sec-fetch-dest", "document") != "document":
            # An image, iframe or fetch from some web page, not the browser's navigation.
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        if method != "GET":
            raise BadRequest(405, "Method not allowed", NOT_ACCEPTED)
        if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        path, _, query = target.partition("?")
        if path.startswith(START_PREFIX):
            return self._start(path[len(START_PREFIX):], query)
        if path != self._path:
            raise BadRequest(404, "Not found", NOT_ACCEPTED)
        return self._callback(query)

    def _start(self, token: str, query: str) -> str:
        current, target = self._start_token, self._start_target
        if (
            not query
            and current is not None
            and target is not None
            and self._pending()
            and hmac.compare_digest(token.encode("utf-8"), current.encode("utf-8"))
        ):
            self._spend_start_token()  # single use
            return target
        if any(hmac.compare_digest(token.encode("utf-8"), t.encode("utf-8")) for t in self._spent_tokens):
            ends = StartPageReusedError(START_REUSED_MESSAGE) if self._pending() else None
            raise BadRequest(400, "Sign-in link already used", START_REUSED_MESSAGE, ends=ends)
        raise BadRequest(404, "Not found", NOT_ACCEPTED)

    def _callback(self, query: str) -> dict[str, str]:
        if _BROKEN_PERCENT.search(query):
            # Malformed, not a mismatch: parse_qsl would keep "%zz" as text.
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        try:
            pairs = parse_qsl(
                query.partition("#")[0],
                keep_blank_values=True,
                errors="strict",
                max_num_fields=MAX_QUERY_FIELDS,
            )
        except (ValueError, UnicodeDecodeError):
            raise BadRequest(400, "Bad request", NOT_ACCEPTED) from None
        params: dict[str, str] = {}
        for k, v in pairs:
            if k in params:
                raise BadRequest(400, "Bad request", "This sign-in response is ambiguous and was ignored.")
            params[k] = v
        expected = self._expected
        if expected is None or not self._pending():
            raise BadRequest(
                400,
                "Unknown sign-in response",
                "This response does not belong to a sign-in in progress, so it was ignored. "
                f"If you are signing in, return to {APP_NAME} and try again.",
            )
        state = params.get("state")
        if state is None or not hmac.compare_digest(state.encode("utf-8"), expected.encode("utf-8")):
            raise BadRequest(
                400,
                "Sign-in stopped: the state did not match",
                STATE_MISMATCH_MESSAGE,
                ends=StateMismatchError(STATE_MISMATCH_MESSAGE),
            )
        return params

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
        data = body.encode("utf-8")
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}"]
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Length": str(len(data)),
            "Connection": "close",
            **SECURITY_HEADERS,
        }
        if status == 405:
            headers["Allow"] = "GET"
        if location is not None:
            headers["Location"] = location
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + data)
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

