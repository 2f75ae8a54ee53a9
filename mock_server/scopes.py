"""Scopes, their hierarchy (mcp:admin ⊃ mcp:write ⊃ mcp:read) and the demo tools' needs."""

from __future__ import annotations

import re
from collections.abc import Iterable

READ = "mcp:read"
WRITE = "mcp:write"
ADMIN = "mcp:admin"
SHARE = "notes:share"
OFFLINE = "offline_access"
# OpenID Connect (demo feature): an ID token, /userinfo, and what the user may share.
OPENID = "openid"
EMAIL = "email"
PROFILE = "profile"

# A broader scope implies the narrower ones (MCP authorization: "honor scope hierarchies").
IMPLIES: dict[str, frozenset[str]] = {
    ADMIN: frozenset({WRITE, READ}),
    WRITE: frozenset({READ}),
}

AS_SCOPES: tuple[str, ...] = (READ, WRITE, ADMIN, SHARE, OFFLINE, OPENID, EMAIL, PROFILE)
"""scopes_supported in the AS metadata."""

PRM_SCOPES: tuple[str, ...] = (READ, WRITE, ADMIN, SHARE)
"""scopes_supported in the protected resource metadata (offline_access is an AS matter)."""

DEFAULT_SCOPE = READ
"""Granted when an authorization request carries no scope."""

BASE_CHALLENGE_SCOPE = READ
"""Scope named in the 401 challenge: enough to list tools and call the read tools."""

_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
MAX_SCOPE_LENGTH = 1024


def parse_scope(value: str) -> list[str] | None:
    """Split a scope parameter; None when it breaks the RFC 6749 §3.3 grammar."""
    if len(value) > MAX_SCOPE_LENGTH:
        return None
    parts = value.split(" ")
    if any(not _SCOPE_TOKEN.match(p) for p in parts):
        return None
    seen: list[str] = []
    for p in parts:
        if p not in seen:
            seen.append(p)
    return seen


def expand(scopes: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for s in scopes:
        out.add(s)
        out.update(IMPLIES.get(s, ()))
    return frozenset(out)


def satisfies(granted: Iterable[str], required: Iterable[str]) -> bool:
    have = expand(granted)
    return all(r in have for r in required)


def join(scopes: Iterable[str]) -> str:
    return " ".join(scopes)
