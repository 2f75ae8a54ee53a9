"""Strict JSON: what RFC 8259 forbids or a hostile server could abuse is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core import jsonutil
from mcp_auth_desktop.core.errors import InvalidJsonError


def test_plain_object_parses() -> None:
    assert jsonutil.loads_object(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_constants_are_rejected(literal: str) -> None:
    with pytest.raises(InvalidJsonError, match="constant"):
        jsonutil.loads(f'{{"expires_in": {literal}}}')


def test_float_overflow_to_infinity_is_rejected() -> None:
    with pytest.raises(InvalidJsonError, match="out of range"):
        jsonutil.loads('{"expires_in": 1e400}')


def test_duplicate_keys_are_rejected_even_nested() -> None:
    with pytest.raises(InvalidJsonError, match="twice"):
        jsonutil.loads('{"issuer": "https://a", "issuer": "https://b"}')
    with pytest.raises(InvalidJsonError):
        jsonutil.loads('{"x": {"k": 1, "k": 2}}')


def test_depth_limit() -> None:
    ok = "[" * 64 + "]" * 64
    assert jsonutil.loads(ok) is not None
    with pytest.raises(InvalidJsonError, match="nested"):
        jsonutil.loads("[" * 65 + "]" * 65)
    # far beyond the recursion limit: still one typed error, no RecursionError
    with pytest.raises(InvalidJsonError):
        jsonutil.loads("[" * 100_000)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = json.dumps({"s": "[" * 500 + "\\\"{" * 100})
    assert jsonutil.loads_object(text)["s"].startswith("[[[")


def test_huge_integers_are_rejected() -> None:
    assert jsonutil.loads("1" * 1000) == int("1" * 1000)
    with pytest.raises(InvalidJsonError, match="digits"):
        jsonutil.loads("1" * 1001)
    with pytest.raises(InvalidJsonError, match="digits"):
        jsonutil.loads('{"n": -%s}' % ("9" * 5000))


@pytest.mark.parametrize("text", ["[1]", '"s"', "3", "null", "true"])
def test_top_level_must_be_object_when_asked(text: str) -> None:
    assert jsonutil.loads(text) is not None or text == "null"
    with pytest.raises(InvalidJsonError, match="JSON object was expected"):
        jsonutil.loads_object(text)


@pytest.mark.parametrize("data", [b"", b"{", b"{'a': 1}", b"\xff\xfe{}", b'{"a":1} trailing'])
def test_malformed_input_gives_one_typed_error(data: bytes) -> None:
    with pytest.raises(InvalidJsonError):
        jsonutil.loads_object(data)


def test_error_message_never_echoes_the_body() -> None:
    secret = "SECRET-CANARY-123"
    with pytest.raises(InvalidJsonError) as info:
        jsonutil.loads(f'{{"access_token": "{secret}", "access_token": "x"}}')
    assert secret not in str(info.value)


def test_bom_is_tolerated() -> None:
    assert jsonutil.loads_object("\ufeff{}".encode()) == {}


def test_dumps_refuses_nan() -> None:
    with pytest.raises(ValueError):
        jsonutil.dumps({"x": float("nan")})


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(deadline=None)
@given(_json)
def test_property_round_trip_of_valid_json(value: object) -> None:
    assert jsonutil.loads(json.dumps(value)) == value


@settings(deadline=None)
@given(st.text(max_size=200))
def test_property_arbitrary_text_never_raises_anything_else(text: str) -> None:
    try:
        jsonutil.loads(text)
    except InvalidJsonError:
        pass
