"""Issue 15 #3 and #4, issue 12 (state mismatch): the loopback listener under hostile local traffic.

Everything goes over real sockets to a real listener on 127.0.0.1:

* denial of service: a refused request is answered and closed at once, a slow
  one is cut by a short deadline, and a flood of 1,000 bad requests (64 at a
  time, each held open by its sender) does not keep the browser's real
  redirect out;
* a callback with a wrong or missing ``state`` ends the sign-in at once with
  :class:`StateMismatchError`, and the page says so (escaped);
* the single-use start page redirects (302) to the authorization URL once; a
  second request is refused and ends the sign-in with :class:`StartPageReusedError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from mcp_auth_desktop.core.errors import StateMismatchError
from mcp_auth_desktop.core.loopback import LoopbackListener

STATE = "S" * 43
AUTHORIZE = (
    "https://as.example.com/authorize?response_type=code&client_id=c1"
    f"&state={STATE}&code_challenge=CHALLENGE-CANARY&code_challenge_method=S256"
)


async def _read_all(reader: asyncio.StreamReader, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; (bytes, seconds until the close)."""
    t0 = time.monotonic()
    chunks: list[bytes] = []
    async with asyncio.timeout(limit):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - t0


def _bad_requests(port: int) -> list[bytes]:
    """Complete requests that must be refused without ending the pending sign-in."""
    host = f"127.0.0.1:{port}"
    return [
        f"GET /callback?code=x&state={STATE} HTTP/1.1\r\nHost: evil.example\r\n\r\n".encode(),
        f"GET /callback?code=x&state=g HTTP/1.1\r\nHost: {host}\r\nOrigin: https://evil.example\r\n\r\n".encode(),
        f"POST /callback HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode(),
        f"GET /favicon.ico HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
        b"GET /callback\r\n\r\n",
        b"\x16\x03\x01\x00\x05hello\r\n\r\n",
        f"GET /callback?code=x&state={STATE}&state=y HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
    ]


# ------------------------------------------------------------------ denial of service


async def test_loopback_dos_refused_request_is_answered_and_closed_at_once() -> None:
    """Senders of bad requests keep their end open; the listener still frees the slot
    within a second, so as many held bad requests as there are slots do not lock the
    browser out."""
    slots = 8
    async with LoopbackListener(max_connections=slots) as lst:
        lst.expect_state(STATE)
        kinds = _bad_requests(lst.port)
        held: list[asyncio.StreamWriter] = []
        for i in range(slots):
            reader, writer = await asyncio.open_connection("127.0.0.1", lst.port)
            writer.write(kinds[i % len(kinds)])  # a complete request, then the sender waits
            await writer.drain()
            held.append(writer)
            reply = await asyncio.wait_for(reader.read(65536), 5)
            assert reply.startswith(b"HTTP/1.1 4"), reply[:40]
        t0 = time.monotonic()
        while lst._handlers and time.monotonic() - t0 < 5:  # noqa: ASYNC110 - polling the server side
            await asyncio.sleep(0.05)
        took = time.monotonic() - t0
        assert not lst._handlers and took < 3.0, f"refused connections held their slots for {took:.1f} s"
        assert not lst._result.done()  # type: ignore[union-attr]
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            page = asyncio.create_task(browser.get(f"{lst.redirect_uri}?code=c&state={STATE}"))
            assert (await asyncio.wait_for(lst.wait(), 5))["code"] == "c"
            lst.report(True, "Signed in.")
            assert (await page).status_code == 200
        for writer in held:
            writer.close()


async def test_loopback_dos_slow_request_is_cut_by_a_short_default_deadline() -> None:
    async with LoopbackListener() as lst:  # the default deadline, not a test override
        lst.expect_state(STATE)
        reader, writer = await asyncio.open_connection("127.0.0.1", lst.port)
        writer.write(b"GET /callback?state=")
        await writer.drain()
        reply, took = await _read_all(reader, 15.0)
        writer.close()
        assert reply == b"" and took < 6.0, f"a slow request kept its connection for {took:.1f} s"  # was 10 s


async def test_loopback_dos_flood_of_1000_bad_requests_does_not_keep_the_real_callback_out() -> None:
    """1,000 complete bad requests, 64 in flight at a time, each held open by its sender
    until the server closes it (capped at 5 s); the real redirect arrives mid-flood."""
    total, in_flight = 1000, 64
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        kinds = _bad_requests(lst.port)
        sem = asyncio.Semaphore(in_flight)
        statuses: list[int] = []
        mid_flood = asyncio.Event()

        async def attacker(i: int) -> None:
            async with sem:
                if i == total // 4:
                    mid_flood.set()
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", lst.port)
                except OSError:
                    statuses.append(-1)
                    return
                try:
                    writer.write(kinds[i % len(kinds)])
                    await writer.drain()
                    reply, _ = await _read_all(reader, 5.0)
                    statuses.append(int(reply[9:12]) if reply.startswith(b"HTTP/1.1 ") else 0)
                except (OSError, TimeoutError):
                    statuses.append(0)
                finally:
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()

        t0 = time.monotonic()
        flood = asyncio.gather(*(attacker(i) for i in range(total)))
        await mid_flood.wait()
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            sent = time.monotonic()
            page = asyncio.create_task(browser.get(f"{lst.redirect_uri}?code=the-code&state={STATE}"))
            params = await asyncio.wait_for(lst.wait(), 10)
            delivered = time.monotonic() - sent
            lst.report(True, "Signed in.")
            response = await page
        await flood
        flood_seconds = time.monotonic() - t0
    assert params == {"code": "the-code", "state": STATE}
    assert response.status_code == 200 and "Signed in" in response.text
    assert delivered < 5.0, f"the real callback took {delivered:.1f} s under the flood"
    assert len(statuses) == total
    # Every bad request was answered with a 4xx, or dropped to make room for others.
    assert all(400 <= s < 500 or s == 0 for s in statuses), sorted(set(statuses))
    assert sum(1 for s in statuses if 400 <= s < 500) >= total * 0.9
    assert flood_seconds < 60


# ------------------------------------------------------------------ state mismatch (issue 12)


@pytest.mark.parametrize(
    "query",
    [
        "code=c&state=forged-by-someone&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "code=c",
        "error=access_denied&state=guess",
    ],
)
async def test_loopback_state_mismatch_ends_the_sign_in_at_once(query: str) -> None:
    async with LoopbackListener(timeout=300) as lst:
        lst.expect_state(STATE)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        waiter = asyncio.create_task(lst.wait())
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            page = await browser.get(f"{lst.redirect_uri}?{query}")
        with pytest.raises(StateMismatchError) as info:
            await asyncio.wait_for(waiter, 3)
        assert loop.time() - t0 < 3
    message = info.value.user_message
    assert "state" in message and "cross-site request forgery" in message
    assert page.status_code == 400
    assert html.escape(message) in page.text  # the browser page says the same, escaped
    assert "<script>" not in page.text and "alert(1)" not in page.text and "forged-by-someone" not in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_loopback_state_mismatch_after_completion_changes_nothing() -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            task = asyncio.create_task(browser.get(f"{lst.redirect_uri}?code=c&state={STATE}"))
            assert (await lst.wait())["code"] == "c"
            lst.report(True, "Signed in.")
            assert (await task).status_code == 200
            late = await browser.get(f"{lst.redirect_uri}?code=c&state=wrong")
        assert late.status_code == 400 and "does not belong to a sign-in in progress" in late.text


# ------------------------------------------------------------------ the single-use start page (issue 15 #4)


async def test_start_page_redirects_once_and_hides_state_and_challenge() -> None:
    from mcp_auth_desktop.core.loopback import SECURITY_HEADERS

    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        start = lst.start_page(AUTHORIZE)
        parts = urlsplit(start)
        assert (parts.scheme, parts.hostname, parts.port) == ("http", "127.0.0.1", lst.port)
        assert parts.path.startswith("/start/") and len(parts.path) - len("/start/") >= 22  # >= 128 bits
        assert STATE not in start and "CHALLENGE" not in start and not parts.query
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            first = await browser.get(start)
        assert first.status_code == 302 and first.headers["location"] == AUTHORIZE
        for name, value in SECURITY_HEADERS.items():
            assert first.headers[name] == value
        assert STATE not in first.text  # only in the Location header
        assert not lst._result.done()  # type: ignore[union-attr]


async def test_start_page_second_use_is_refused_and_ends_the_sign_in() -> None:
    from mcp_auth_desktop.core.errors import StartPageReusedError

    async with LoopbackListener(timeout=300) as lst:
        lst.expect_state(STATE)
        start = lst.start_page(AUTHORIZE)
        waiter = asyncio.create_task(lst.wait())
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            assert (await browser.get(start)).status_code == 302
            second = await browser.get(start)
        with pytest.raises(StartPageReusedError) as info:
            await asyncio.wait_for(waiter, 3)
    assert second.status_code == 400 and "location" not in second.headers
    assert "second time" in info.value.user_message
    assert html.escape(info.value.user_message) in second.text


@pytest.mark.parametrize(
    "mutate",
    [
        lambda url: url + "x",  # a guessed token
        lambda url: url.rsplit("/", 1)[0] + "/",  # no token
        lambda url: url + "?next=https://evil.example",
    ],
)
async def test_start_page_unknown_token_is_refused_and_the_sign_in_survives(
    mutate: Callable[[str], str],
) -> None:
    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        start = lst.start_page(AUTHORIZE)
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            bad = await browser.get(mutate(start))
            assert bad.status_code == 404 and "location" not in bad.headers
            assert not lst._result.done()  # type: ignore[union-attr]
            assert (await browser.get(start)).status_code == 302


async def test_start_page_refuses_a_url_that_would_inject_headers() -> None:
    from mcp_auth_desktop.core.errors import ConfigurationError

    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        for url in (AUTHORIZE + "\r\nSet-Cookie: a=b", "javascript:alert(1)", AUTHORIZE + " x"):
            with pytest.raises(ConfigurationError):
                lst.start_page(url)


async def test_start_page_of_an_earlier_authorization_is_spent() -> None:
    """A new authorization in the same listener (re-registration) makes the old link unusable."""
    from mcp_auth_desktop.core.errors import StartPageReusedError

    async with LoopbackListener() as lst:
        lst.expect_state(STATE)
        old = lst.start_page(AUTHORIZE)
        lst.expect_state("T" * 43)
        new = lst.start_page(AUTHORIZE.replace(STATE, "T" * 43))
        assert new != old
        waiter = asyncio.create_task(lst.wait())
        async with httpx.AsyncClient(timeout=10, trust_env=False) as browser:
            assert (await browser.get(old)).status_code == 400
        with pytest.raises(StartPageReusedError):
            await asyncio.wait_for(waiter, 3)
