"""2026-07-28 request headers (core/mcp/headers.py): value encoding and x-mcp-header rules."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core.mcp.headers import (
    HeaderParam,
    InvalidToolHeaders,
    encode_value,
    header_params,
    request_headers,
)


def decode(header: str) -> str:
    if header.startswith("=?base64?") and header.endswith("?="):
        return base64.b64decode(header[len("=?base64?") : -2]).decode("utf-8")
    return header


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_value_round_trips_and_is_header_safe(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates are not JSON text a tool argument could hold
    header = encode_value(value)
    assert all(0x20 <= ord(c) <= 0x7E for c in header)
    assert header == header.strip(" ")
    assert decode(header) == value


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("us-west1", "us-west1"),
        ("us west 1", "us west 1"),
        ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
        (" padded ", "=?base64?IHBhZGRlZCA=?="),
        ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
        ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
        ("\tindented", "=?base64?CWluZGVudGVk?="),
    ],
)
def test_the_specifications_examples(value: str, encoded: str) -> None:
    assert encode_value(value) == encoded


def prop(kind: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"type": kind, **extra}
    if name is not None:
        p["x-mcp-header"] = name
    return p


def test_annotations_reachable_through_properties_only() -> None:
    schema = {
        "type": "object",
        "properties": {
            "region": prop("string", "Region"),
            "n": prop("integer", "N"),
            "nested": {"type": "object", "properties": {"flag": prop("boolean", "Flag")}},
        },
    }
    assert header_params(schema) == [
        HeaderParam(("region",), "Region"),
        HeaderParam(("n",), "N"),
        HeaderParam(("nested", "flag"), "Flag"),
    ]
    headers = request_headers(
        "tools/call",
        {"name": "t", "arguments": {"region": "eu", "n": 7, "nested": {"flag": True}}},
        "2026-07-28",
        header_params(schema),
    )
    assert headers["Mcp-Param-Region"] == "eu" and headers["Mcp-Param-N"] == "7"
    assert headers["Mcp-Param-Flag"] == "true" and headers["Mcp-Name"] == "t"
    # A value that is absent or null is no header.
    headers = request_headers("tools/call", {"name": "t", "arguments": {"n": None}}, "2026-07-28", header_params(schema))
    assert not any(k.startswith("Mcp-Param-") for k in headers)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"v": prop("string", "")}},
        {"type": "object", "properties": {"v": prop("number", "V")}},
        {"type": "object", "properties": {"v": prop("object", "V")}},
        {"type": "object", "properties": {"v": {"x-mcp-header": "V"}}},  # no type
        {"type": "object", "properties": {"a": prop("string", "X"), "b": prop("string", "x")}},
        {"type": "object", "properties": {"v": prop("string", "My Region")}},
        {"type": "object", "properties": {"v": prop("string", "Région")}},
        {"type": "object", "properties": {"v": prop("string", "A:B")}},
        {"type": "object", "properties": {"v": {"type": "array", "items": prop("string", "I")}}},
        {"type": "object", "anyOf": [{"properties": {"v": prop("string", "V")}}]},
        {"type": "object", "$defs": {"d": prop("string", "D")}},
        {"type": "object", "x-mcp-header": "Root"},
    ],
)
def test_invalid_annotations_make_the_tool_invalid(schema: dict[str, Any]) -> None:
    with pytest.raises(InvalidToolHeaders):
        header_params(schema)


json_schemas = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["type", "properties", "items", "anyOf", "x-mcp-header", "$defs", "a", "not"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_schemas)
def test_any_schema_gives_params_or_a_typed_refusal(schema: Any) -> None:
    try:
        params = header_params(schema)
    except InvalidToolHeaders:
        return
    assert len({p.name.lower() for p in params}) == len(params)
