"""Strict JSON parsing for everything a server sends us.

Python's ``json`` module accepts things RFC 8259 does not (``NaN``,
``Infinity``, duplicate member names) and has no nesting or integer-size
limits of its own beyond the interpreter's recursion limit. A hostile
metadata or token endpoint could use that to smuggle a second ``issuer``
past a check or to crash the parser, so every server response goes through
:func:`loads` / :func:`loads_object` instead.

Errors are always :class:`~mcp_auth_desktop.core.errors.InvalidJsonError`
and never quote the offending body (it may contain a secret).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import InvalidJsonError

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "loads", "loads_object", "dumps"]

MAX_DEPTH = 64
#: Far below CPython's own 4300-digit guard: no OAuth field needs more.
MAX_INT_DIGITS = 1000
_MAX_FLOAT_CHARS = 1000


class _Reject(ValueError):
    """Internal: carries the reason out of the json hooks."""


def _check_depth(text: str, max_depth: int) -> None:
    # A linear pre-scan so a 10 000-deep array is refused before the
    # recursive C scanner gets a chance to raise RecursionError.
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                raise InvalidJsonError(
                    f"The server's response is nested more than {max_depth} levels deep."
                )
        elif ch in "]}":
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise _Reject(f"the non-standard constant {name} is not allowed")


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Reject("a member name appears twice in one object")
        out[key] = value
    return out


def _make_int_parser(max_digits: int) -> Any:
    def parse_int(s: str) -> int:
        digits = len(s) - (1 if s.startswith("-") else 0)
        if digits > max_digits:
            raise _Reject(f"an integer has more than {max_digits} digits")
        return int(s)

    return parse_int


def _parse_float(s: str) -> float:
    if len(s) > _MAX_FLOAT_CHARS:
        raise _Reject("a number is too long")
    value = float(s)
    if not math.isfinite(value):
        # 1e400 overflows to inf: the same trouble as an Infinity literal.
        raise _Reject("a number is out of range")
    return value


def loads(
    data: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    max_int_digits: int = MAX_INT_DIGITS,
) -> Any:
    """Parse one JSON text strictly; raise :class:`InvalidJsonError` on anything odd."""
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJsonError("The server's response is not valid UTF-8 JSON.") from None
    else:
        text = data
    if text.startswith("\ufeff"):
        # RFC 8259 §8.1: parsers MAY ignore a BOM; some Windows servers send one.
        text = text[1:]
    _check_depth(text, max_depth)
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_pairs,
            parse_int=_make_int_parser(max_int_digits),
            parse_float=_parse_float,
        )
    except _Reject as exc:
        raise InvalidJsonError(f"The server's response is not acceptable JSON: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise InvalidJsonError(
            f"The server's response is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})."
        ) from None
    except (ValueError, RecursionError):
        raise InvalidJsonError("The server's response is not acceptable JSON.") from None


def loads_object(data: bytes | str, **kwargs: Any) -> dict[str, Any]:
    """Like :func:`loads` but the top level must be a JSON object."""
    value = loads(data, **kwargs)
    if not isinstance(value, dict):
        raise InvalidJsonError(
            f"The server's response is a JSON {_kind(value)}, but a JSON object was expected."
        )
    return value


def dumps(value: Any) -> str:
    """Serialise for sending: compact, and refusing NaN so we never emit bad JSON."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
