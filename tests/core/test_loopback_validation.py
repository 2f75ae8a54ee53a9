"""The loopback listener's decisions as pure functions (core/loopback/validation.py, pages.py).

The socket-level behaviour is in test_loopback.py and
tests/security/test_loopback_hardening.py; these pin each rule on its own,
with no listener running.
"""

from __future__ import annotations

import pytest

from mcp_auth_desktop.core.errors import StartPageReusedError, StateMismatchError
from mcp_auth_desktop.core.loopback.pages import SECURITY_HEADERS, encode_response
from mcp_auth_desktop.core.loopback.validation import (
    MAX_QUERY_FIELDS,
    STATE_MISMATCH_MESSAGE,
    BadRequest,
    check_callback_state,
    check_navigation,
    check_start,
    is_start_page,
    parse_callback_query,
)

AUTHORITY = "127.0.0.1:50123"
STATE = "s" * 32


def head(*lines: str, request: str = "GET /callback?code=c HTTP/1.1") -> bytes:
    return ("\r\n".join((request, *lines)) + "\r\n\r\n").encode("ascii")


def test_a_browser_navigation_to_the_bound_literal_gives_its_target() -> None:
    got = check_navigation(head(f"Host: {AUTHORITY}", "Sec-Fetch-Dest: document"), AUTHORITY)
    assert got == "/callback?code=c"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (head("Host: localhost:50123"), 400),  # a name DNS could send elsewhere
        (head(f"Host: {AUTHORITY}", "Origin: https://evil.example"), 400),  # a script's request
        (head(f"Host: {AUTHORITY}", "Sec-Fetch-Dest: image"), 400),  # a subresource
        (head(f"Host: {AUTHORITY}", request="POST /callback HTTP/1.1"), 405),
        (head(f"Host: {AUTHORITY}", "Content-Length: 3"), 400),
        (head(f"Host: {AUTHORITY}", "Transfer-Encoding: chunked"), 400),
        (head(f"Host: {AUTHORITY}", f"Host: {AUTHORITY}"), 400),  # repeated Host
        (head(f"Host: {AUTHORITY}", " folded"), 400),  # obs-fold
        (head(f"Host: {AUTHORITY}", request="GET /callback HTTP/2"), 400),
        (b"GET /callback HTTP/1.1\r\nHost: \xff\r\n\r\n", 400),  # not ASCII
    ],
)
def test_anything_but_a_browser_navigation_is_refused_without_ending_the_sign_in(raw: bytes, status: int) -> None:
    with pytest.raises(BadRequest) as caught:
        check_navigation(raw, AUTHORITY)
    assert caught.value.status == status
    assert caught.value.ends is None


def test_the_start_token_redirects_once_and_a_spent_one_ends_the_sign_in() -> None:
    target = "https://as.example/authorize?state=x"
    assert check_start("tok", "", current="tok", target=target, pending=True, spent=()) == target
    for query, current, pending in (("a=1", "tok", True), ("", "other", True), ("", "tok", False)):
        with pytest.raises(BadRequest) as unknown:
            check_start("tok", query, current=current, target=target, pending=pending, spent=())
        assert unknown.value.status == 404 and unknown.value.ends is None
    with pytest.raises(BadRequest) as reused:
        check_start("tok", "", current=None, target=None, pending=True, spent=("tok",))
    assert reused.value.status == 400 and isinstance(reused.value.ends, StartPageReusedError)
    with pytest.raises(BadRequest) as late:  # no sign-in pending: refused, nothing to end
        check_start("tok", "", current=None, target=None, pending=False, spent=("tok",))
    assert late.value.ends is None


def test_the_callback_query_is_decoded_strictly() -> None:
    assert parse_callback_query("code=a%20b&state=s&empty=#frag") == {"code": "a b", "state": "s", "empty": ""}
    for bad in ("code=%zz", "code=a&code=b", "&".join(f"k{i}=v" for i in range(MAX_QUERY_FIELDS + 1)), "code=%ff"):
        with pytest.raises(BadRequest) as caught:
            parse_callback_query(bad)
        assert caught.value.status == 400 and caught.value.ends is None, bad


def test_only_the_pending_state_delivers_and_a_wrong_or_missing_one_ends_the_sign_in() -> None:
    params = {"code": "c", "state": STATE}
    assert check_callback_state(params, STATE, pending=True) == params
    for wrong in ({"code": "c", "state": "t" * 32}, {"code": "c"}):
        with pytest.raises(BadRequest) as caught:
            check_callback_state(wrong, STATE, pending=True)
        assert isinstance(caught.value.ends, StateMismatchError)
        assert caught.value.message == STATE_MISMATCH_MESSAGE
    with pytest.raises(BadRequest) as stray:  # nothing pending: ignored, nothing ended
        check_callback_state(params, None, pending=False)
    assert stray.value.ends is None and "does not belong" in stray.value.message


def test_start_page_urls_are_loopback_http_under_the_start_prefix() -> None:
    assert is_start_page("http://127.0.0.1:5000/start/abc")
    assert is_start_page("http://[::1]:5000/start/abc")
    for other in ("https://127.0.0.1:5000/start/abc", "http://localhost:5000/start/abc",
                  "http://127.0.0.1:5000/callback", "http://[::1/start/x", "http://10.0.0.1/start/x"):
        assert not is_start_page(other), other


def test_every_response_carries_the_security_headers_and_closes() -> None:
    raw = encode_response(405, "<p>é</p>", location="https://as.example/a")
    head_part, _, body = raw.partition(b"\r\n\r\n")
    lines = head_part.decode("ascii").split("\r\n")
    assert lines[0] == "HTTP/1.1 405 Method Not Allowed"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value
    assert headers["Allow"] == "GET" and headers["Connection"] == "close"
    assert headers["Location"] == "https://as.example/a"
    assert int(headers["Content-Length"]) == len(body) == len("<p>é</p>".encode())
