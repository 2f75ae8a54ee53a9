"""What a vault entry may be: its name and its value (pure JSON), for every vault.

Kept apart from :mod:`.vault` so the in-memory vault (``--ephemeral``, ``--demo``,
``MCP_AUTH_DESKTOP_KEYRING=memory``) checks entries exactly as the file vault does
without importing ``cryptography``.
"""

from __future__ import annotations

import json
from typing import Any

from .base import JsonObject

__all__ = ["MAX_NAME", "normalise", "validate_name"]

MAX_NAME = 256


def _reject_constant(name: str) -> None:
    raise ValueError(f"invalid JSON constant {name}")


def validate_name(name: object) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
        raise ValueError(f"a vault entry name is a string of 1 to {MAX_NAME} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name):
        raise ValueError("a vault entry name has no control characters")
    return name


def normalise(value: object) -> JsonObject:
    """A deep copy of ``value`` in pure JSON types, or TypeError (value not shown)."""
    if not isinstance(value, dict):
        raise TypeError("a vault entry is a JSON object (dict)")
    try:
        out: Any = json.loads(json.dumps(value, allow_nan=False), parse_constant=_reject_constant)
    except (TypeError, ValueError):
        raise TypeError(
            "a vault entry holds only str, int, float, bool, None, list and dict values"
        ) from None
    assert isinstance(out, dict)
    return out
