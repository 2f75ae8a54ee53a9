"""Parser for the ``WWW-Authenticate`` header (RFC 9110 §11.6.1).

Grammar, from RFC 9110::

    WWW-Authenticate = #challenge
    challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param  = token BWS "=" BWS ( token / quoted-string )
    token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="

Commas separate both challenges and the parameters of one challenge, so an
element that is a token followed by whitespace and something other than
``=`` starts a new challenge. The parser is a single forward scan: each step
consumes at least one character, so work is linear in the (capped) input,
and malformed elements are skipped up to the next comma instead of raising,
because a hostile or sloppy server must never crash the client.

:func:`bearer_challenge` then extracts what MCP clients act on (RFC 6750 §3,
RFC 9728 §5.1): ``resource_metadata``, ``scope``, ``error`` and
``error_description``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mcp_auth_desktop.core.text import sanitize_server_text

__all__ = [
    "Challenge",
    "BearerChallenge",
    "parse_www_authenticate",
    "bearer_challenge",
    "describe_challenge",
    "parse_scope",
    "MAX_INPUT_CHARS",
    "MAX_SCOPE_CHARS",
]

#: Input beyond this many characters (all header values together) is ignored.
MAX_INPUT_CHARS = 64 * 1024
#: RFC 6750 scope values longer than this are refused (security catalogue item 11; the
#: catalogue's items and their tests are listed in audits/README.md).
MAX_SCOPE_CHARS = 4096
_MAX_CHALLENGES = 32
_MAX_PARAMS = 64

# RFC 9110 §5.6.2 tchar.
_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68_CHARS = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WS = " \t"
# RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN_RE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


@dataclass(frozen=True)
class Challenge:
    """One challenge: lowercased scheme, lowercased parameter names, or a token68."""

    scheme: str
    params: dict[str, str]
    token68: str | None = None


@dataclass(frozen=True)
class BearerChallenge:
    """What a ``Bearer`` challenge tells an OAuth client.

    ``scope`` is None when absent or malformed (a bad scope is no guidance);
    ``error_description`` is sanitised so it can be logged and shown.
    """

    resource_metadata: str | None = None
    scope: tuple[str, ...] | None = None
    error: str | None = None
    error_description: str | None = None


def _is_qdtext(ch: str) -> bool:
    # HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    o = ord(ch)
    return ch in _WS or o == 0x21 or 0x23 <= o <= 0x5B or 0x5D <= o <= 0x7E or o >= 0x80


def _is_quoted_pair_char(ch: str) -> bool:
    # HTAB / SP / VCHAR / obs-text
    o = ord(ch)
    return ch in _WS or 0x21 <= o <= 0x7E or o >= 0x80


class _Scanner:
    """Forward-only cursor over one header value."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.n = len(text)

    def at_end(self) -> bool:
        return self.i >= self.n

    def peek(self) -> str:
        return self.s[self.i] if self.i < self.n else ""

    def skip_ws(self) -> None:
        while self.i < self.n and self.s[self.i] in _WS:
            self.i += 1

    def skip_ws_and_commas(self) -> None:
        while self.i < self.n and (self.s[self.i] in _WS or self.s[self.i] == ","):
            self.i += 1

    def token(self) -> str:
        start = self.i
        while self.i < self.n and self.s[self.i] in _TCHARS:
            self.i += 1
        return self.s[start : self.i]

    def quoted_string(self) -> str | None:
        """Read a quoted-string at the cursor; None (cursor unchanged) if malformed."""
        start = self.i
        if self.peek() != '"':
            return None
        self.i += 1
        out: list[str] = []
        while self.i < self.n:
            ch = self.s[self.i]
            if ch == '"':
                self.i += 1
                return "".join(out)
            if ch == "\\":
                if self.i + 1 < self.n and _is_quoted_pair_char(self.s[self.i + 1]):
                    out.append(self.s[self.i + 1])
                    self.i += 2
                    continue
                break
            if not _is_qdtext(ch):
                break
            out.append(ch)
            self.i += 1
        self.i = start
        return None

    def skip_element(self) -> None:
        """Skip a malformed list element: up to the next comma outside a quoted string."""
        in_quotes = False
        while self.i < self.n:
            ch = self.s[self.i]
            if in_quotes:
                if ch == "\\":
                    self.i += 1
                elif ch == '"':
                    in_quotes = False
            elif ch == '"':
                in_quotes = True
            elif ch == ",":
                return
            self.i += 1

    def at_element_end(self) -> bool:
        """After optional whitespace: end of input or a comma."""
        j = self.i
        while j < self.n and self.s[j] in _WS:
            j += 1
        return j >= self.n or self.s[j] == ","


def _try_auth_param(sc: _Scanner) -> tuple[str, str] | None:
    """``token BWS "=" BWS ( token / quoted-string )`` ending an element; else None, cursor kept."""
    start = sc.i
    name = sc.token()
    if name:
        sc.skip_ws()
        if sc.peek() == "=":
            sc.i += 1
            sc.skip_ws()
            if sc.peek() == '"':
                value = sc.quoted_string()
            else:
                value = sc.token() or None
            if value is not None and sc.at_element_end():
                return name.lower(), value
    sc.i = start
    return None


def _try_token68(sc: _Scanner) -> str | None:
    start = sc.i
    while sc.i < sc.n and sc.s[sc.i] in _TOKEN68_CHARS:
        sc.i += 1
    if sc.i == start:
        return None
    while sc.i < sc.n and sc.s[sc.i] == "=":
        sc.i += 1
    if sc.at_element_end():
        return sc.s[start : sc.i]
    sc.i = start
    return None


def _starts_param(sc: _Scanner) -> bool:
    """Does the element at the cursor look like ``token BWS "="`` (a parameter, not a scheme)?"""
    j = sc.i
    while j < sc.n and sc.s[j] in _TCHARS:
        j += 1
    if j == sc.i:
        return False
    while j < sc.n and sc.s[j] in _WS:
        j += 1
    return j < sc.n and sc.s[j] == "="


def _parse_one(text: str, out: list[Challenge]) -> None:
    sc = _Scanner(text)
    while not sc.at_end() and len(out) < _MAX_CHALLENGES:
        sc.skip_ws_and_commas()
        if sc.at_end():
            break
        scheme = sc.token()
        if not scheme or not (sc.at_end() or sc.peek() in _WS or sc.peek() == ","):
            sc.skip_element()
            continue
        params: dict[str, str] = {}
        token68: str | None = None
        sc.skip_ws()
        if not sc.at_end() and sc.peek() != ",":
            # First item after the scheme: an auth-param, or a token68 on its own.
            param = _try_auth_param(sc)
            if param is not None:
                params.setdefault(*param)
            else:
                token68 = _try_token68(sc)
                if token68 is None:
                    sc.skip_element()
        if token68 is None:
            while not sc.at_end() and len(params) < _MAX_PARAMS:
                sc.skip_ws_and_commas()
                if sc.at_end() or not _starts_param(sc):
                    break  # a new challenge (or junk, handled by the outer loop)
                param = _try_auth_param(sc)
                if param is None:
                    sc.skip_element()
                    continue
                params.setdefault(*param)
        out.append(Challenge(scheme=scheme.lower(), params=params, token68=token68))


def parse_www_authenticate(value: str | Sequence[str]) -> list[Challenge]:
    """All challenges in one header value or several (in order). Never raises."""
    values = [value] if isinstance(value, str) else list(value)
    out: list[Challenge] = []
    budget = MAX_INPUT_CHARS
    for v in values:
        if not isinstance(v, str) or budget <= 0:
            continue
        piece = v[:budget]
        budget -= len(piece)
        _parse_one(piece, out)
    return out


def parse_scope(value: str | None) -> tuple[str, ...] | None:
    """RFC 6750 §3 scope value -> tokens (deduplicated, in order); None if absent or malformed."""
    if value is None or len(value) > MAX_SCOPE_CHARS:
        return None
    tokens = [t for t in value.split(" ") if t]
    if not tokens or not all(_SCOPE_TOKEN_RE.match(t) for t in tokens):
        return None
    return tuple(dict.fromkeys(tokens))


def bearer_challenge(values: str | Sequence[str]) -> BearerChallenge | None:
    """The first ``Bearer`` challenge, reduced to what the client uses; None if there is none."""
    for ch in parse_www_authenticate(values):
        if ch.scheme != "bearer":
            continue
        p = ch.params
        error = p.get("error")
        description = p.get("error_description")
        return BearerChallenge(
            resource_metadata=p.get("resource_metadata") or None,
            scope=parse_scope(p.get("scope")),
            error=sanitize_server_text(error, 80) if error else None,
            error_description=sanitize_server_text(description) if description else None,
        )
    return None


def describe_challenge(challenge: BearerChallenge | None) -> str:
    """``error: error_description`` of a Bearer challenge (already sanitised, capped once more)."""
    if challenge is None:
        return ""
    return sanitize_server_text(": ".join(p for p in (challenge.error, challenge.error_description) if p))
