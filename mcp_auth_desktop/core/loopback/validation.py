"""Which requests the loopback listener answers, and with what: pure checks, no I/O.

A request must be a top-level ``GET`` naming exactly the bound IP literal and
port as ``Host`` (never ``localhost``, which DNS or a hosts file could send
elsewhere), with no ``Origin`` and no body. Then it is either the single-use
start page (:func:`check_start`) or the callback, whose query must parse
cleanly (:func:`parse_callback_query`) and carry the expected ``state``
(:func:`check_callback_state`). Anything else raises :class:`BadRequest`,
whose ``ends`` (when set) also ends the pending sign-in.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from mcp_auth_desktop.core.errors import (
    McpAuthError,
    StartPageReusedError,
    StateMismatchError,
)

from .pages import APP_NAME

__all__ = [
    "MAX_QUERY_FIELDS",
    "NOT_ACCEPTED",
    "START_PREFIX",
    "START_REUSED_MESSAGE",
    "STATE_MISMATCH_MESSAGE",
    "BadRequest",
    "check_callback_state",
    "check_navigation",
    "check_start",
    "is_start_page",
    "parse_callback_query",
    "parse_head",
]

MAX_QUERY_FIELDS = 32
#: Path prefix of the single-use start page; a random token follows.
START_PREFIX = "/start/"
#: A percent sign not followed by two hex digits: malformed, not a state mismatch.
_BROKEN_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

NOT_ACCEPTED = (
    "This address only accepts the sign-in redirect from your browser. "
    "No sign-in was changed."
)
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


class BadRequest(Exception):
    """A refused request; ``ends`` (when set) also ends the pending sign-in with that error."""

    def __init__(self, status: int, heading: str, message: str, ends: McpAuthError | None = None) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.message = message
        self.ends = ends


def is_start_page(url: str) -> bool:
    """Whether ``url`` is a listener's start page (for headless user agents that follow it)."""
    try:
        parts = urlsplit(url)
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return False
    return parts.scheme == "http" and loopback and parts.path.startswith(START_PREFIX)


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Request line and headers of an HTTP/1.x request head -> (method, target, headers)."""
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest(400, "Bad request", NOT_ACCEPTED) from None
    lines = text[:-4].split("\r\n") if text.endswith("\r\n\r\n") else []
    if not lines:
        raise BadRequest(400, "Bad request", NOT_ACCEPTED)
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(400, "Bad request", NOT_ACCEPTED)
    method, target, _version = parts
    if not method or not set(method) <= _TCHARS:
        raise BadRequest(400, "Bad request", NOT_ACCEPTED)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or not set(name) <= _TCHARS:
            # Also refuses obs-fold (a line starting with whitespace).
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        key = name.lower()
        if key in headers and key in ("host", "content-length", "transfer-encoding", "origin"):
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        headers.setdefault(key, value.strip(" \t"))
    return method, target, headers


def check_navigation(head: bytes, authority: str) -> str:
    """The request target of a browser's top-level GET to ``authority``; else BadRequest."""
    method, target, headers = parse_head(head)
    # The AS redirects to the redirect URI, which names the IP literal; a
    # request naming anything else did not come from that redirect.
    if headers.get("host", "").lower() != authority:
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
    return target


def check_start(
    token: str,
    query: str,
    *,
    current: str | None,
    target: str | None,
    pending: bool,
    spent: Sequence[str],
) -> str:
    """The authorization URL the start page ``token`` redirects to; else BadRequest.

    Only the current token, once, while a sign-in is pending; a spent token
    ends the pending sign-in (:class:`StartPageReusedError`).
    """
    if (
        not query
        and current is not None
        and target is not None
        and pending
        and hmac.compare_digest(token.encode("utf-8"), current.encode("utf-8"))
    ):
        return target
    if any(hmac.compare_digest(token.encode("utf-8"), t.encode("utf-8")) for t in spent):
        ends = StartPageReusedError(START_REUSED_MESSAGE) if pending else None
        raise BadRequest(400, "Sign-in link already used", START_REUSED_MESSAGE, ends=ends)
    raise BadRequest(404, "Not found", NOT_ACCEPTED)


def parse_callback_query(query: str) -> dict[str, str]:
    """The callback's parameters: strictly decoded, bounded in number, none repeated."""
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
    return params


def check_callback_state(params: dict[str, str], expected: str | None, pending: bool) -> dict[str, str]:
    """``params`` when a sign-in is pending and their ``state`` is its own; else BadRequest.

    A wrong or missing ``state`` ends the pending sign-in (:class:`StateMismatchError`).
    """
    if expected is None or not pending:
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
