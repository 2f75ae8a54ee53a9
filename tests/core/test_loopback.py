"""The RFC 8252 loopback listener, driven over real sockets (raw and httpx).

Tests named ``test_catalogue_loopback_<n>_…`` cover the LOOPBACK CALLBACK items
44-50 of the security catalogue.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core.errors import (
    AuthorizationTimeout,
    ConfigurationError,
    StateMismatchError,
)
from mcp_auth_desktop.core.loopback import SECURITY_HEADERS, LoopbackListener, render_page

STATE = "s" * 32


async def raw(lst: LoopbackListener, data: bytes) -> bytes:
    """Send bytes, half-close, read the whole reply ('' when the server just closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", lst.port)
    try:
        writer.write(data)
        await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()
        chunks = []
        async with asyncio.timeout(5.0):
            while True:
                try:
                    chunk = await reader.read(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def get(lst: LoopbackListener, target: str, *, host: str | None = None, extra: str = "") -> bytes:
    host = host if host is not None else f"127.0.0.1:{lst.port}"
    host_line = f"Host: {host}\r\n" if host != "" else ""
    return f"GET {target} HTTP/1.1\r\n{host_line}{extra}\r\n".encode("latin-1")


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1.1 "), reply[:80]
    return int(reply[9:12])


def is_refused(port: int) -> bool:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        return True
    finally:
        s.close()
    return False


async def _complete(lst: LoopbackListener, state: str = STATE, message: str = "Signed in to Example.") -> tuple[dict[str, str], httpx.Response]:
    async with httpx.AsyncClient() as client:
        req = asyncio.create_task(client.get(f"{lst.redirect_uri}?code=the-code&state={state}"))
        params = await lst.wait()
        lst.report(True, message)
        resp = await req
    return params, resp


async def test_redirect_uri_is_built_from_the_bound_port() -> None:
    async with LoopbackListener() as lst:
        assert lst.port != 0
        assert lst.redirect_uri == f"http://127.0.0.1:{lst.port}/callback"
        lst.expect_state(STATE)
        params, resp = await _complete(lst)
        assert params == {"code": "the-code", "state": STATE}
        assert resp.status_code == 200
        assert "Signed in to Example." in resp.text
    assert is_refused(lst.port)


async def test_ipv6_loopback_redirect_uri() -> None:
    if not socket.has_ipv6:
        pytest.fail("the test machine has no IPv6 support")
    try:
        lst = LoopbackListener(host="::1")
        await lst.start()
    except ConfigurationError:
        pytest.fail("::1 is not available on this machine")
    async with lst:
        assert lst.redirect_uri == f"http://[::1]:{lst.port}/callback"
        lst.expect_state(STATE)
        async with httpx.AsyncClient() as client:
            req = asyncio.create_task(client.get(f"{lst.redirect_uri}?code=c&state={STATE}"))
            assert (await lst.wait())["code"] == "c"
            lst.report(True, "ok")
            assert (await req).status_code == 200


async def test_another_loopback_address_is_used_in_uri_and_host_check() -> None:
    async with LoopbackListener(host="127.0.0.2") as lst:
        assert lst.redirect_uri == f"http://127.0.0.2:{lst.port}/callback"
        lst.expect_state(STATE)
        reader, writer = await asyncio.open_connection("127.0.0.2", lst.port)
        writer.write(get(lst, f"/callback?code=c&state={STATE}", host=f"127.0.0.1:{lst.port}"))
        await writer.drain()
        async with asyncio.timeout(5):
            assert status_of(await reader.read()) == 400  # Host names another address
        writer.close()
        await writer.wait_closed()
        async with httpx.AsyncClient() as client:
            req = asyncio.create_task(client.get(f"{lst.redirect_uri}?code=c&state={STATE}"))
            assert (await lst.wait())["code"] == "c"
            lst.report(True, "ok")
            assert (await req).status_code == 200


async def test_neutral_page_when_the_flow_does_not_report() -> None:
    async with LoopbackListener(report_wait=0.05) as lst:
        lst.expect_state(STATE)
        reply_task = asyncio.create_task(raw(lst, get(lst, f"/callback?code=c&state={STATE}")))
        await lst.wait()
        reply = await reply_task
        assert status_of(reply) == 200
        assert b"Return to MCP Auth Desktop" in reply


async def test_report_failure_page() -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        reply_task = asyncio.create_task(raw(lst, get(lst, f"/callback?code=c&state={STATE}")))
        await lst.wait()
        lst.report(False, "The authorization server refused the code.")
        reply = await reply_task
        assert b"Sign-in failed" in reply and b"refused the code" in reply


async def test_closing_before_report_still_answers_the_browser() -> None:
    lst = LoopbackListener()
    await lst.start()
    lst.expect_state(STATE)
    reply_task = asyncio.create_task(raw(lst, get(lst, f"/callback?code=c&state={STATE}")))
    await lst.wait()
    await lst.aclose()
    reply = await reply_task
    assert status_of(reply) == 200 and b"Return to MCP Auth Desktop" in reply
    assert is_refused(lst.port)


async def test_error_callback_with_the_right_state_is_delivered_to_the_flow() -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        task = asyncio.create_task(raw(lst, get(lst, f"/callback?error=access_denied&state={STATE}")))
        assert await lst.wait() == {"error": "access_denied", "state": STATE}
        lst.report(False, "Access was denied.")
        assert status_of(await task) == 200


async def test_wait_requires_expect_state() -> None:
    async with LoopbackListener() as lst:
        with pytest.raises(RuntimeError):
            await lst.wait()
        with pytest.raises(ValueError):
            lst.expect_state("")


def test_render_page_escapes_every_value() -> None:
    page = render_page("error", "<b>h</b>", "<script>alert('x')</script> & \"q\"")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&amp;" in page and "&quot;q&quot;" in page
    assert "<b>h</b>" not in page


# --- catalogue 44: where the listener binds --------------------------------------------


async def test_catalogue_loopback_44_binds_loopback_ephemeral_and_exclusively() -> None:
    async with LoopbackListener() as lst:
        assert lst.host == "127.0.0.1"
        assert 1024 <= lst.port <= 65535
        # A second listener (ours or anyone's, even with SO_REUSEADDR) cannot take the port.
        with pytest.raises(ConfigurationError, match=rf"port {lst.port} is in use"):
            await LoopbackListener(port=lst.port).start()
        other = socket.socket()
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError):
            other.bind(("127.0.0.1", lst.port))
        other.close()
        # Bound to 127.0.0.1 itself, not the wildcard: another loopback address
        # (which a wildcard bind would also answer) is refused.
        assert lst._server is not None
        assert [s.getsockname()[0] for s in lst._server.sockets] == ["127.0.0.1"]
        probe = socket.socket()
        probe.settimeout(2)
        try:
            with pytest.raises(ConnectionRefusedError):
                probe.connect(("127.0.0.2", lst.port))
        finally:
            probe.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost", "192.168.1.2", "::", "example.com"])
def test_catalogue_loopback_44_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        LoopbackListener(host=host)


async def test_catalogue_loopback_44_fixed_port_and_rebinding_after_close() -> None:
    async with LoopbackListener() as first:
        port = first.port
        first.expect_state(STATE)
        await _complete(first)
    # The same fixed port is usable again right after a completed sign-in.
    async with LoopbackListener(port=port) as again:
        assert again.redirect_uri == f"http://127.0.0.1:{port}/callback"


async def test_catalogue_loopback_44_busy_fixed_port_message() -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        with pytest.raises(ConfigurationError) as info:
            async with LoopbackListener(port=port):
                pass
        assert f"port {port} is in use" in str(info.value)
        assert "callback port" in str(info.value)
    finally:
        blocker.close()


# --- catalogue 45: Host header and DNS rebinding ------------------------------------------


async def test_catalogue_loopback_45_bad_host_or_origin_is_refused_and_flow_survives() -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        target = f"/callback?code=c&state={STATE}"
        bad = [
            get(lst, target, host="evil.example"),
            get(lst, target, host=f"evil.example:{lst.port}"),
            get(lst, target, host="127.0.0.1"),
            get(lst, target, host=f"127.0.0.1:{lst.port + 1 if lst.port < 65535 else 1}"),
            get(lst, target, host=""),
            get(lst, target, extra=f"Host: 127.0.0.1:{lst.port}\r\n"),  # two Host headers
            get(lst, target, extra="Origin: https://evil.example\r\n"),
            get(lst, target, extra="Origin: null\r\n"),
            # The redirect URI names 127.0.0.1; localhost could resolve elsewhere.
            get(lst, target, host=f"localhost:{lst.port}"),
        ]
        for data in bad:
            reply = await raw(lst, data)
            assert status_of(reply) == 400, data
            assert b"access-control-allow" not in reply.lower()
        assert not lst._result.done()  # type: ignore[union-attr]
        # Only the exact literal of the redirect URI ends the flow.
        task = asyncio.create_task(raw(lst, get(lst, target, host=f"127.0.0.1:{lst.port}")))
        assert (await lst.wait())["code"] == "c"
        lst.report(True, "ok")
        assert status_of(await task) == 200


# --- catalogue 46: hostile local requests ---------------------------------------------------


async def test_catalogue_loopback_46_hostile_requests_get_400_and_do_not_end_the_flow() -> None:
    """Ambiguous or undecodable callbacks are refused and the flow carries on (a state
    mismatch, by contrast, ends it: see test_loopback_state_mismatch_* below)."""
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        wrong = [
            f"/callback?code=c&state={STATE}&state={STATE}",
            f"/callback?code=c&code=d&state={STATE}",
            "/callback?code=c&state=%ff",
            "/callbackx?code=c&state=guess",
            "/start/guess",
        ]
        for target in wrong:
            assert status_of(await raw(lst, get(lst, target))) in (400, 404), target
        # A burst of 200 requests from a web page (subresource loads), 16 at a time:
        # every one refused, the flow still pending.
        sem = asyncio.Semaphore(16)

        async def guess(i: int) -> bytes:
            async with sem:
                return await raw(lst, get(lst, f"/callback?code=c&state=g{i}", extra="Sec-Fetch-Dest: image\r\n"))

        replies = await asyncio.gather(*(guess(i) for i in range(200)))
        assert {status_of(r) for r in replies} == {400}
        assert not lst._result.done()  # type: ignore[union-attr]
        params, resp = await _complete(lst)
        assert params["state"] == STATE and resp.status_code == 200


async def test_catalogue_loopback_46_requests_before_expect_state_are_refused() -> None:
    async with LoopbackListener() as lst:
        assert status_of(await raw(lst, get(lst, f"/callback?code=c&state={STATE}"))) == 400


# --- catalogue 47: slowloris and malformed HTTP --------------------------------------------


async def test_catalogue_loopback_47_slow_connection_is_dropped_after_the_read_timeout() -> None:
    async with LoopbackListener(read_timeout=0.3) as lst:
        reader, writer = await asyncio.open_connection("127.0.0.1", lst.port)
        writer.write(b"GET /callback?state=")
        await writer.drain()
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # closed by the server, no reply
        writer.close()
        await writer.wait_closed()


async def test_catalogue_loopback_47_real_redirect_completes_during_a_slowloris_flood() -> None:
    async with LoopbackListener(read_timeout=30.0, max_connections=8) as lst:
        lst.expect_state(STATE)
        slow = []
        for _ in range(40):
            reader, writer = await asyncio.open_connection("127.0.0.1", lst.port)
            writer.write(b"GET /cal")
            slow.append(writer)
        await asyncio.gather(*(w.drain() for w in slow), return_exceptions=True)
        await asyncio.sleep(0.05)
        assert len(lst._handlers) <= 8
        params, resp = await _complete(lst)
        assert params["code"] == "the-code" and resp.status_code == 200
        for w in slow:
            w.close()
        await asyncio.gather(*(w.wait_closed() for w in slow), return_exceptions=True)


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("long request line", lambda p: b"GET /callback?" + b"a" * 65536 + b" HTTP/1.1\r\n\r\n", {431}),
        ("1 MB of headers", lambda p: b"GET /callback HTTP/1.1\r\n" + b"X: y\r\n" * 200_000 + b"\r\n", {431}),
        ("HTTP/0.9", lambda p: b"GET /callback\r\n\r\n", {400}),
        ("HTTP/2 preface", lambda p: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400}),
        ("junk", lambda p: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", {400}),
        ("junk then EOF", lambda p: b"\x00\xffhello", {400}),
        ("non-ascii head", lambda p: f"GET /callback?state=\u00e9 HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n".encode(), {400}),
        ("bad utf-8 query", lambda p: f"GET /callback?state=%ff%fe HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n".encode(), {400}),
        ("broken percent-encoding", lambda p: f"GET /callback?state=%zz%4 HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n".encode(), {400}),
        ("obs-fold", lambda p: f"GET /callback HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n folded\r\n\r\n".encode(), {400}),
        ("too many params", lambda p: f"GET /callback?{'&'.join(f'a{i}=1' for i in range(100))} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n".encode(), {400}),
        ("body on GET", lambda p: f"GET /callback HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nContent-Length: 5\r\n\r\nhello".encode(), {400}),
        ("chunked GET", lambda p: f"GET /callback HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode(), {400}),
    ],
)
async def test_catalogue_loopback_47_malformed_http_gets_4xx_and_flow_survives(
    name: str, make: object, expected: set[int]
) -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        reply = await raw(lst, make(lst.port))  # type: ignore[operator]
        assert status_of(reply) in expected, name
        assert not lst._result.done()  # type: ignore[union-attr]
        params, _ = await _complete(lst)
        assert params["code"] == "the-code"


@given(st.binary(max_size=3000))
@settings(max_examples=25, deadline=None)
def test_catalogue_loopback_47_random_bytes_never_crash_the_listener(blob: bytes) -> None:
    async def scenario() -> None:
        async with LoopbackListener(read_timeout=0.2) as lst:
            lst.expect_state(STATE)
            reply = await raw(lst, blob)
            assert reply == b"" or 400 <= status_of(reply) < 500
            assert not lst._result.done()  # type: ignore[union-attr]
            params, _ = await _complete(lst)
            assert params["state"] == STATE

    asyncio.run(scenario())


# --- catalogue 48: response hygiene ------------------------------------------------------------


async def test_catalogue_loopback_48_headers_escaping_and_no_code_on_the_page() -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        hostile = "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
        refused = await raw(lst, get(lst, f"/callback?state=wrong&error_description={hostile}"))
        assert status_of(refused) == 400
        assert b"<script>" not in refused and b"alert(1)" not in refused
        with pytest.raises(StateMismatchError):  # a wrong state ends that sign-in...
            await lst.wait()
        lst.expect_state(STATE)  # ...and the next one starts afresh
        code = "SECRET-CODE-CANARY"
        async with httpx.AsyncClient() as client:
            req = asyncio.create_task(
                client.get(
                    f"{lst.redirect_uri}?code={code}&state={STATE}&error_description={hostile}"
                )
            )
            await lst.wait()
            lst.report(False, "<script>alert(1)</script> server said no")
            resp = await req
        for name, value in SECURITY_HEADERS.items():
            assert resp.headers[name] == value
        csp = resp.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp
        assert resp.headers["cache-control"] == "no-store"
        assert resp.headers["referrer-policy"] == "no-referrer"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["content-type"] == "text/html; charset=utf-8"
        assert code not in resp.text and STATE not in resp.text
        assert "<script>" not in resp.text and "&lt;script&gt;" in resp.text
        # No external resources or links on the page.
        assert "http://" not in resp.text and "https://" not in resp.text and "<a " not in resp.text
        for reply in (refused,):
            head = reply.split(b"\r\n\r\n", 1)[0].decode().lower()
            assert "cache-control: no-store" in head and "referrer-policy: no-referrer" in head


# --- catalogue 49: strict routing, no open redirect ------------------------------------------


async def test_catalogue_loopback_49_strict_routing_and_no_redirects() -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        q = f"?code=c&state={STATE}"
        for target in ["/", "/callback/", "/Callback" + q, "/callback/.." + q, "/%63allback" + q, "http://127.0.0.1/callback" + q]:
            assert status_of(await raw(lst, get(lst, target))) in (400, 404), target
        for method in ["POST", "PUT", "HEAD", "OPTIONS", "DELETE"]:
            reply = await raw(
                lst, f"{method} /callback{q} HTTP/1.1\r\nHost: 127.0.0.1:{lst.port}\r\n\r\n".encode()
            )
            assert status_of(reply) == 405, method
            assert b"\r\nAllow: GET\r\n" in reply
        assert not lst._result.done()  # type: ignore[union-attr]
        async with httpx.AsyncClient() as client:
            req = asyncio.create_task(client.get(f"{lst.redirect_uri}{q}&next=https://evil.example&redirect=https://evil.example"))
            await lst.wait()
            lst.report(True, "ok")
            resp = await req
        assert resp.status_code == 200 and "location" not in resp.headers
        assert "evil.example" not in resp.text


# --- catalogue 50: concurrent flows, duplicates, lifecycle -------------------------------------


async def test_catalogue_loopback_50_concurrent_flows_get_only_their_own_callbacks() -> None:
    async with LoopbackListener() as a, LoopbackListener() as b:
        assert a.port != b.port
        a.expect_state("state-a" * 4)
        b.expect_state("state-b" * 4)
        # Swapped callbacks: each listener refuses the other's state and ends its sign-in.
        assert status_of(await raw(a, get(a, "/callback?code=x&state=" + "state-b" * 4))) == 400
        assert status_of(await raw(b, get(b, "/callback?code=x&state=" + "state-a" * 4))) == 400
        for lst in (a, b):
            with pytest.raises(StateMismatchError):
                await lst.wait()
        a.expect_state("state-a" * 4)
        b.expect_state("state-b" * 4)
        (pa, ra), (pb, rb) = await asyncio.gather(_complete(a, "state-a" * 4), _complete(b, "state-b" * 4))
        assert pa["state"] == "state-a" * 4 and pb["state"] == "state-b" * 4
        # A duplicate (reload, prefetch) after completion is refused; no second result.
        assert status_of(await raw(a, get(a, "/callback?code=the-code&state=" + "state-a" * 4))) == 400
    assert is_refused(a.port) and is_refused(b.port)


async def test_catalogue_loopback_50_port_closes_on_timeout() -> None:
    lst = LoopbackListener(timeout=0.2)
    await lst.start()
    lst.expect_state(STATE)
    with pytest.raises(AuthorizationTimeout, match="not completed"):
        await lst.wait()
    assert is_refused(lst.port)
    await lst.aclose()


async def test_catalogue_loopback_50_port_closes_on_cancel() -> None:
    lst = LoopbackListener()
    await lst.start()
    lst.expect_state(STATE)
    waiter = asyncio.create_task(lst.wait())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert is_refused(lst.port)
    await lst.aclose()


async def test_catalogue_loopback_50_port_closes_when_the_flow_task_is_cancelled() -> None:
    ports: list[int] = []
    waiting = asyncio.Event()

    async def flow() -> None:
        async with LoopbackListener() as lst:
            ports.append(lst.port)
            lst.expect_state(STATE)
            waiting.set()
            await lst.wait()

    task = asyncio.create_task(flow())
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert is_refused(ports[0])


async def test_catalogue_loopback_50_port_closes_on_error_in_the_flow() -> None:
    with pytest.raises(ZeroDivisionError):
        async with LoopbackListener() as lst:
            port = lst.port
            lst.expect_state(STATE)
            raise ZeroDivisionError
    assert is_refused(port)


async def test_catalogue_loopback_50_aclose_ends_a_pending_wait() -> None:
    lst = LoopbackListener()
    await lst.start()
    lst.expect_state(STATE)
    waiter = asyncio.create_task(lst.wait())
    await asyncio.sleep(0.01)
    await lst.aclose()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert is_refused(lst.port)


async def test_many_listeners_at_once() -> None:
    rng = random.Random(7)
    listeners = [LoopbackListener() for _ in range(6)]
    for lst in listeners:
        await lst.start()
    try:
        states = [f"state-{i}-{rng.randrange(10**9)}" for i in range(6)]
        for lst, s in zip(listeners, states, strict=True):
            lst.expect_state(s)
        results = await asyncio.gather(*(_complete(lst, s) for lst, s in zip(listeners, states, strict=True)))
        assert [p["state"] for p, _ in results] == states
    finally:
        for lst in listeners:
            await lst.aclose()


# --- the page in real Chromium, reached through a cross-origin 302 as from an AS --------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class _Redirector(BaseHTTPRequestHandler):
    """Plays the authorization server: 302 to whatever ``to`` says."""

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        target = parse_qs(urlsplit(self.path).query)["to"][0]
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def redirector() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/authorize"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.e2e
@pytest.mark.browser
async def test_chromium_follows_the_redirect_and_shows_the_escaped_page(redirector: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            console: list[str] = []
            page.on("console", lambda msg: console.append(msg.text))
            async with LoopbackListener() as lst:
                lst.expect_state(STATE)
                callback = f"{lst.redirect_uri}?code=CODE-CANARY&state={STATE}"
                nav = asyncio.create_task(page.goto(f"{redirector}?{urlencode({'to': callback})}"))
                params = await asyncio.wait_for(lst.wait(), 20)
                assert params == {"code": "CODE-CANARY", "state": STATE}
                lst.report(True, "<img src=x onerror=alert(1)> Signed in to Example.")
                response = await nav
                assert response is not None and response.status == 200
                assert response.url == callback
                headers = await response.all_headers()
                assert headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
                assert headers["referrer-policy"] == "no-referrer"
                assert headers["cache-control"] == "no-store"
                assert await page.title() == "Signed in"
                assert await page.text_content("#callback-title") == "Signed in"
                message = await page.text_content("#callback-message")
                assert message == "<img src=x onerror=alert(1)> Signed in to Example."
                assert await page.locator("img").count() == 0
                body = await page.content()
                assert "CODE-CANARY" not in body
                # A reload is a duplicate: refused, and the finished flow is not touched.
                again = await page.reload()
                assert again is not None and again.status == 400
                assert await page.text_content("#callback-title") == "Unknown sign-in response"
            assert not [m for m in console if "Content Security Policy" in m]
        finally:
            await browser.close()
