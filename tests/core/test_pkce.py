"""PKCE S256 (RFC 7636), state values and constant-time comparison."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core import pkce

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc7636_appendix_b_vector() -> None:
    assert pkce.s256_challenge(RFC7636_VERIFIER) == RFC7636_CHALLENGE


def test_verifier_shape_and_entropy() -> None:
    v = pkce.make_verifier()
    assert pkce.VERIFIER_RE.match(v)
    assert len(v) == 64  # 48 bytes -> 384 bits
    assert len({pkce.make_verifier() for _ in range(50)}) == 50


@pytest.mark.parametrize("n", [31, 97])
def test_verifier_byte_count_bounds(n: int) -> None:
    with pytest.raises(ValueError):
        pkce.make_verifier(n)


def test_state_has_at_least_128_bits() -> None:
    s = pkce.make_state()
    assert len(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))) >= 16
    with pytest.raises(ValueError):
        pkce.make_state(15)


@pytest.mark.parametrize("bad", ["short", "a" * 42, "a" * 129, "a" * 42 + "!", "ä" * 50])
def test_invalid_verifiers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        pkce.s256_challenge(bad)


@settings(deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=43, max_size=128))
@example(RFC7636_VERIFIER)
def test_property_challenge_is_b64url_sha256(verifier: str) -> None:
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert pkce.s256_challenge(verifier) == expected
    assert "=" not in expected and len(expected) == 43


def test_constant_time_equal() -> None:
    assert pkce.constant_time_equal("abc", "abc")
    assert not pkce.constant_time_equal("abc", "abd")
    assert not pkce.constant_time_equal("abc", None)
    assert not pkce.constant_time_equal(None, None)
    assert pkce.constant_time_equal("é", "é")
