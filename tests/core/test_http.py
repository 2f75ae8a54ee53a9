"""fetch_json: body caps, gzip bombs, checked redirects, error mapping, Retry-After."""

from __future__ import annotations

import email.utils
import gzip

import httpx
import pytest

from mcp_auth_desktop.core.errors import (
    InsecureUrlError,
    InvalidJsonError,
    NetworkError,
    ProtocolError,
    ResponseTooLargeError,
)
from mcp_auth_desktop.core.http import fetch_json, make_http_client, parse_retry_after

from ._helpers import guard


def _client(handler) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=False)


async def test_make_http_client_settings() -> None:
    async with make_http_client(timeout=7.0) as http:
        assert http.follow_redirects is False
        assert http.timeout.read == 7.0
        assert http.trust_env is True


async def test_json_object_is_returned() -> None:
    async with _client(lambda r: httpx.Response(200, json={"a": 1})) as http:
        resp, body = await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())
    assert resp.status_code == 200 and body == {"a": 1}


async def test_error_status_with_html_gives_none_body() -> None:
    async with _client(lambda r: httpx.Response(404, text="<html>nope</html>", headers={"content-type": "text/html"})) as http:
        resp, body = await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())
    assert resp.status_code == 404 and body is None


async def test_ok_status_with_non_json_content_type_is_rejected() -> None:
    async with _client(lambda r: httpx.Response(200, text="{}", headers={"content-type": "text/html"})) as http:
        with pytest.raises(InvalidJsonError, match="instead of JSON"):
            await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())


async def test_ok_status_with_top_level_array_is_rejected() -> None:
    async with _client(lambda r: httpx.Response(200, json=[1, 2])) as http:
        with pytest.raises(InvalidJsonError):
            await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())


async def test_body_cap_raw() -> None:
    big = b'{"a":"' + b"x" * 2_000_000 + b'"}'
    async with _client(lambda r: httpx.Response(200, content=big, headers={"content-type": "application/json"})) as http:
        with pytest.raises(ResponseTooLargeError):
            await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())


async def test_body_cap_streamed_without_content_length() -> None:
    async def endless():  # type: ignore[no-untyped-def]
        for _ in range(10_000):
            yield b"x" * 65536

    async with _client(lambda r: httpx.Response(200, content=endless())) as http:
        with pytest.raises(ResponseTooLargeError):
            await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())


async def test_gzip_bomb_stops_at_decoded_cap() -> None:
    bomb = gzip.compress(b"{" + b" " * 20_000_000 + b"}")
    assert len(bomb) < 100_000
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    async with _client(lambda r: httpx.Response(200, content=bomb, headers=headers)) as http:
        with pytest.raises(ResponseTooLargeError):
            await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())


async def test_redirects_followed_and_each_hop_checked() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/a":
            return httpx.Response(302, headers={"location": "/b"})
        if request.url.path == "/b":
            return httpx.Response(307, headers={"location": "https://other.example.com/c"})
        return httpx.Response(200, json={"ok": True})

    async with _client(handler) as http:
        _, body = await fetch_json(http, "GET", "https://mcp.example.com/a", guard=guard())
    assert body == {"ok": True}
    assert seen == ["https://mcp.example.com/a", "https://mcp.example.com/b", "https://other.example.com/c"]


async def test_redirect_to_metadata_service_is_blocked_before_sending() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"})

    async with _client(handler) as http:
        with pytest.raises(InsecureUrlError):
            await fetch_json(http, "GET", "https://mcp.example.com/a", guard=guard())
    assert seen == ["https://mcp.example.com/a"]


async def test_more_than_three_redirects_fail() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(302, headers={"location": f"/r{count}"})

    async with _client(handler) as http:
        with pytest.raises(ProtocolError, match="Too many redirects"):
            await fetch_json(http, "GET", "https://mcp.example.com/a", guard=guard())
    assert count == 4  # the original request plus three hops


async def test_post_redirect_is_not_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"location": "https://evil.example.com/steal"})

    async with _client(handler) as http:
        resp, body = await fetch_json(http, "POST", "https://mcp.example.com/token", guard=guard(), content=b"code=SECRET")
    assert resp.status_code == 307 and body is None and len(seen) == 1


async def test_cross_origin_redirect_drops_authorization() -> None:
    auth_seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        auth_seen.append(request.headers.get("authorization"))
        if request.url.host == "mcp.example.com":
            return httpx.Response(302, headers={"location": "https://other.example.com/x"})
        return httpx.Response(200, json={})

    async with _client(handler) as http:
        await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard(), headers={"Authorization": "Bearer T"})
    assert auth_seen == ["Bearer T", None]


async def test_transport_errors_map_to_network_error_without_query() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    async with _client(handler) as http:
        with pytest.raises(NetworkError) as info:
            await fetch_json(http, "GET", "https://mcp.example.com/x?code=SECRET", guard=guard())
    assert "SECRET" not in str(info.value) and info.value.transient

    def handler2(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with _client(handler2) as http:
        with pytest.raises(NetworkError, match="Could not connect"):
            await fetch_json(http, "GET", "https://mcp.example.com/x", guard=guard())


async def test_insecure_url_never_sent() -> None:
    sent = []
    async with _client(lambda r: sent.append(r) or httpx.Response(200, json={})) as http:
        with pytest.raises(InsecureUrlError):
            await fetch_json(http, "GET", "http://mcp.example.com/x", guard=guard())
    assert sent == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("0", 0.0), ("1000000000", 300.0), ("-5", None), ("soon", None), ("", None), (None, None), ("1.5", None)],
)
def test_parse_retry_after_delta(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=1000.0) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 60, usegmt=True), now=now) == pytest.approx(60.0)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert parse_retry_after(email.utils.formatdate(now + 10**6, usegmt=True), now=now) == 300.0
