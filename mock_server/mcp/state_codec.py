"""requestState (SEP-2322) as HMAC-signed JSON bound to the user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from mock_server.mcp.protocol import INVALID_PARAMS, RpcError


class StateCodec:
    """requestState as HMAC-SHA256-signed JSON bound to the user, so a client can neither
    forge nor alter it, nor replay another user's (SEP-2322 leaves the format to the server)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _mac(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, payload, hashlib.sha256).digest()).decode().rstrip("=")

    def dump(self, data: Mapping[str, Any], subject: str) -> str:
        payload = json.dumps({"sub": subject, "data": dict(data)}, separators=(",", ":"), sort_keys=True).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._mac(payload)}"

    def load(self, token: str, subject: str) -> dict[str, Any]:
        body, _, mac = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, TypeError):
            payload = b""
        if not payload or not hmac.compare_digest(self._mac(payload), mac):
            raise RpcError(INVALID_PARAMS, "requestState failed its integrity check")
        decoded = json.loads(payload)
        if decoded.get("sub") != subject or not isinstance(decoded.get("data"), dict):
            raise RpcError(INVALID_PARAMS, "requestState belongs to another user")
        data: dict[str, Any] = decoded["data"]
        return data
