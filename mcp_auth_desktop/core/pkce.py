"""PKCE (RFC 7636, S256 only), ``state`` values and constant-time comparison.

The verifier is 64 URL-safe characters drawn from 48 random bytes (384
bits, comfortably above the 256 bits RFC 7636 §7.1 recommends); ``state``
carries 192 bits. Both come from :mod:`secrets`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

__all__ = [
    "VERIFIER_RE",
    "make_verifier",
    "s256_challenge",
    "make_state",
    "constant_time_equal",
    "is_valid_verifier",
]

#: RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_verifier(nbytes: int = 48) -> str:
    """A fresh ``code_verifier``: base64url of ``nbytes`` random bytes (32..96)."""
    if not 32 <= nbytes <= 96:
        raise ValueError("a PKCE verifier needs 32 to 96 random bytes")
    return _b64url(secrets.token_bytes(nbytes))


def is_valid_verifier(verifier: str) -> bool:
    return bool(VERIFIER_RE.match(verifier))


def s256_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(verifier)))`` per RFC 7636 §4.2."""
    if not is_valid_verifier(verifier):
        raise ValueError("not a valid PKCE code_verifier")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def make_state(nbytes: int = 24) -> str:
    """A single-use ``state`` with at least 128 random bits."""
    if nbytes < 16:
        raise ValueError("state needs at least 128 bits")
    return _b64url(secrets.token_bytes(nbytes))


def constant_time_equal(a: str | None, b: str | None) -> bool:
    """Compare two strings without leaking where they differ; None never matches."""
    if a is None or b is None:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
