"""Property tests for the AS's pure checks: redirect matching (catalogue F5) and PKCE (F8)."""

from __future__ import annotations

import string

from hypothesis import example, given
from hypothesis import strategies as st

from mock_server.validation import (
    check_redirect_uri,
    pkce_matches,
    pkce_value_ok,
    redirect_matches,
    s256,
)

REGISTERED = "http://127.0.0.1/cb"


@given(st.integers(1, 65535))
def test_any_port_matches_a_loopback_registration(port: int) -> None:
    assert redirect_matches(REGISTERED, f"http://127.0.0.1:{port}/cb")
    assert redirect_matches("http://[::1]/cb", f"http://[::1]:{port}/cb")


@given(st.integers(0, len(REGISTERED) - 1), st.characters(codec="ascii"))
def test_any_single_character_change_does_not_match(index: int, char: str) -> None:
    mutated = REGISTERED[:index] + char + REGISTERED[index + 1 :]
    if mutated != REGISTERED:
        assert not redirect_matches(REGISTERED, mutated)


@given(st.integers(1, 65535).filter(lambda p: p != 443))
def test_port_change_on_a_non_loopback_host_never_matches(port: int) -> None:
    assert not redirect_matches("https://app.example.com/cb", f"https://app.example.com:{port}/cb")


@given(st.text(alphabet=string.ascii_letters + string.digits + "-._~", min_size=43, max_size=128))
@example("dBjftJeZ4CVP-mJ92K1p3Us2TGGeaaL8v5HqaJeTzH8x")  # length 43
def test_pkce_round_trip_for_grammar_verifiers(verifier: str) -> None:
    assert pkce_value_ok(verifier)
    assert pkce_matches(verifier, s256(verifier))


def test_rfc7636_appendix_b_vector() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@given(st.text(min_size=0, max_size=200))
def test_strings_outside_the_grammar_are_rejected(value: str) -> None:
    allowed = set(string.ascii_letters + string.digits + "-._~")
    if not (43 <= len(value) <= 128 and set(value) <= allowed):
        assert not pkce_value_ok(value)


@given(st.text(max_size=300))
def test_redirect_checker_never_raises(value: str) -> None:
    result = check_redirect_uri(value)
    assert result is None or isinstance(result, str)
