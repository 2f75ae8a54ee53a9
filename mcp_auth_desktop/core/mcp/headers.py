"""The HTTP headers a 2026-07-28 request carries (Streamable HTTP, "Request Metadata").

* ``MCP-Protocol-Version`` (equal to ``_meta`` ``io.modelcontextprotocol/protocolVersion``),
  ``Mcp-Method`` on every request, ``Mcp-Name`` for ``tools/call``, ``prompts/get``
  (``params.name``) and ``resources/read`` (``params.uri``);
* ``Mcp-Param-{Name}`` for each tool argument whose property in the tool's
  ``inputSchema`` carries ``x-mcp-header: Name`` (SEP-2243).

Values that are not plain header-safe ASCII (non-ASCII, control characters,
surrounding whitespace, or text that looks like the sentinel itself) go as
``=?base64?{UTF-8 as Base64}?=``. Tool definitions whose annotations break the
rules are invalid and are left out of ``tools/list`` (the specification's
"Client Behavior"); :func:`header_params` says why.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HeaderParam",
    "InvalidToolHeaders",
    "encode_value",
    "header_params",
    "request_headers",
    "NAME_SOURCES",
]

#: Methods whose ``Mcp-Name`` header mirrors a body field, and which field.
NAME_SOURCES: dict[str, str] = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PRIMITIVES = frozenset({"string", "integer", "boolean"})
_SAFE = re.compile(r"[\x20-\x7e]*")
_MAX_DEPTH = 32
# Keywords whose value is a map of subschemas, one subschema, or a list of them
# (JSON Schema 2020-12 core and applicator vocabularies, plus draft-07 names).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_ONE = frozenset(
    {
        "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "items", "contains",
        "propertyNames", "not", "if", "then", "else", "additionalItems", "contentSchema",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})


class InvalidToolHeaders(ValueError):
    """A tool's ``x-mcp-header`` annotations break the rules; the message says which."""


@dataclass(frozen=True)
class HeaderParam:
    """One annotated argument: where it sits in the arguments, and its header name part."""

    path: tuple[str, ...]
    name: str


def encode_value(value: str) -> str:
    """A header value for ``value``: as is when plain and safe, else the Base64 sentinel form."""
    plain = (
        _SAFE.fullmatch(value) is not None
        and value == value.strip(" ")
        and not (value.startswith("=?base64?") and value.endswith("?="))
    )
    if plain:
        return value
    return "=?base64?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def header_params(schema: object) -> list[HeaderParam]:
    """The ``x-mcp-header`` parameters of a tool's ``inputSchema``; InvalidToolHeaders if any is bad."""
    found: list[HeaderParam] = []
    _walk(schema, (), reachable=True, found=found, depth=0, root=True)
    seen: set[str] = set()
    for p in found:
        key = p.name.lower()
        if key in seen:
            raise InvalidToolHeaders(f"x-mcp-header {p.name!r} is used twice (names are case-insensitive)")
        seen.add(key)
    return found


def _walk(
    node: object,
    path: tuple[str, ...],
    *,
    reachable: bool,
    found: list[HeaderParam],
    depth: int,
    root: bool = False,
) -> None:
    if depth > _MAX_DEPTH:
        raise InvalidToolHeaders("the inputSchema is nested too deeply to check its x-mcp-header annotations")
    if not isinstance(node, dict):
        return
    if "x-mcp-header" in node:
        if root or not reachable:
            raise InvalidToolHeaders(
                "x-mcp-header is only allowed on properties reached through 'properties' from the root"
            )
        found.append(HeaderParam(path, _check_annotation(node)))
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for prop, sub in value.items():
                _walk(sub, (*path, prop), reachable=reachable, found=found, depth=depth + 1)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            for sub in value.values():
                _walk(sub, path, reachable=False, found=found, depth=depth + 1)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            for sub in value:
                _walk(sub, path, reachable=False, found=found, depth=depth + 1)
        elif key in _SCHEMA_ONE:
            _walk(value, path, reachable=False, found=found, depth=depth + 1)


def _check_annotation(prop: dict[str, Any]) -> str:
    name = prop["x-mcp-header"]
    if not isinstance(name, str) or not name:
        raise InvalidToolHeaders("an x-mcp-header value is empty or not a string")
    if _TOKEN.fullmatch(name) is None:
        raise InvalidToolHeaders(f"x-mcp-header {name!r} is not an HTTP field-name token")
    kind = prop.get("type")
    if kind not in _PRIMITIVES:
        raise InvalidToolHeaders(
            f"x-mcp-header {name!r} is on a parameter of type {kind!r}; only string, integer and boolean are allowed"
        )
    return name


def _header_text(value: object) -> str | None:
    """The text form of an argument value; None when there is nothing to mirror."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return None  # not a primitive: the server will refuse the call, and says why


def request_headers(
    method: str,
    params: dict[str, Any] | None,
    version: str,
    annotated: list[HeaderParam] | None = None,
) -> dict[str, str]:
    """The 2026-07-28 request headers for one request."""
    headers = {"MCP-Protocol-Version": version, "Mcp-Method": method}
    source = NAME_SOURCES.get(method)
    if source is not None and params is not None and isinstance(params.get(source), str):
        headers["Mcp-Name"] = encode_value(params[source])
    if annotated and params is not None:
        args = params.get("arguments")
        for p in annotated:
            value: object = args
            for step in p.path:
                value = value.get(step) if isinstance(value, dict) else None
            text = _header_text(value)
            if text is not None:
                headers[f"Mcp-Param-{p.name}"] = encode_value(text)
    return headers
