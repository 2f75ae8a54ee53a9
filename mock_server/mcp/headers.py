"""MCP 2026-07-28 request metadata headers: Mcp-Method, Mcp-Name and Mcp-Param-{Name},
checked against the body (transports/streamable-http "Server Validation"): any missing,
malformed or mismatching value is 400 with JSON-RPC -32020 HeaderMismatch."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from starlette.datastructures import Headers

from mock_server.mcp.protocol import (
    HEADER_MISMATCH,
    METHOD_HEADER,
    NAME_HEADER,
    PARAM_HEADER_PREFIX,
    RpcError,
)
from mock_server.mcp.registry import McpTool

NAME_METHODS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri",
                "tasks/get": "taskId", "tasks/update": "taskId", "tasks/cancel": "taskId"}
_SAFE_VALUE = re.compile(r"^[\x20-\x7e\t]*$")
_SENTINEL = re.compile(r"^=\?base64\?(.*)\?=$", re.DOTALL)


def mismatch(message: str) -> RpcError:
    return RpcError(HEADER_MISMATCH, f"Header mismatch: {message}", status=400)


def decode_value(raw: str, header: str) -> str:
    """Strip optional whitespace (RFC 9110 §5.5), then undo the =?base64?…?= sentinel if present."""
    value = raw.strip(" \t")
    if not _SAFE_VALUE.match(value):
        raise mismatch(f"{header} contains characters not allowed in a header value")
    sentinel = _SENTINEL.match(value)
    if sentinel is None:
        return value
    try:
        return base64.b64decode(sentinel.group(1), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise mismatch(f"{header} is not valid Base64 of UTF-8 text") from exc


def check_standard(headers: Headers, method: str, params: dict[str, Any]) -> None:
    sent = headers.get(METHOD_HEADER)
    if sent is None:
        raise mismatch("the Mcp-Method header is required")
    if sent.strip(" \t") != method:
        raise mismatch(f"Mcp-Method header value {sent.strip()!r} does not match body method {method!r}")
    field = NAME_METHODS.get(method)
    if field is None:
        return
    body_value = params.get(field)
    raw = headers.get(NAME_HEADER)
    if raw is None:
        raise mismatch(f"the Mcp-Name header is required for {method}")
    if decode_value(raw, "Mcp-Name") != body_value:
        raise mismatch(f"Mcp-Name header does not match body params.{field}")


def _same(header_value: str, body_value: Any, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(body_value, bool) and header_value == ("true" if body_value else "false")
    if kind == "integer":
        if isinstance(body_value, bool) or not isinstance(body_value, int | float):
            return False
        try:
            return float(header_value) == float(body_value)  # 42.0 and 42 are the same integer
        except ValueError:
            return False
    return isinstance(body_value, str) and header_value == body_value


def check_params(headers: Headers, tool: McpTool, arguments: dict[str, Any]) -> None:
    """Every x-mcp-header argument present in the body must arrive, equal, in its header."""
    for mark, (argument, kind) in tool.header_params().items():
        header = PARAM_HEADER_PREFIX + mark
        raw = headers.get(header)
        value = arguments.get(argument)
        if value is None:
            if raw is not None:
                raise mismatch(f"Mcp-Param-{mark} was sent but arguments.{argument} is absent")
            continue
        if raw is None:
            raise mismatch(f"the Mcp-Param-{mark} header is required when arguments.{argument} is set")
        if not _same(decode_value(raw, f"Mcp-Param-{mark}"), value, kind):
            raise mismatch(f"Mcp-Param-{mark} header does not match arguments.{argument}")
