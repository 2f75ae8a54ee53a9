"""What the bridge answers the local client when a request cannot be served.

The error codes (JSON-RPC's own, and two in the server-defined range that a
client can act on), what counts as a request id, the error object, and which
failure becomes which error: a pure mapping, so every request is answered alike.
"""

from __future__ import annotations

from typing import Any

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.mcp.era import MODERN_ERROR_CODES

__all__ = [
    "AUTH_ERROR",
    "INTERNAL_ERROR",
    "INVALID_REQUEST",
    "PARSE_ERROR",
    "UPSTREAM_ERROR",
    "error_message",
    "failure",
    "is_id",
    "says_modern",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
#: Server-defined range: the bridge could not get a usable token (sign-in, scope, revoked).
AUTH_ERROR = -32001
#: Server-defined range: the remote server could not be reached or answered badly.
UPSTREAM_ERROR = -32002

#: The errors that mean "no usable token: sign in" (a 403 insufficient_scope is a step-up instead).
_SIGN_IN = (
    errors.SignInRequiredError,
    errors.InvalidTokenError,
    errors.InvalidGrantError,
    errors.ServerNotFoundError,
    errors.AuthorizationError,
)


def is_id(value: Any) -> bool:
    """A JSON-RPC request id: a string or an integer (a bool is neither)."""
    return isinstance(value, str | int) and not isinstance(value, bool)


def says_modern(reply: Any) -> bool:
    """An error only a 2026-07-28 server sends (header mismatch, missing capability, version)."""
    error = reply.get("error") if isinstance(reply, dict) else None
    return isinstance(error, dict) and error.get("code") in MODERN_ERROR_CODES


def error_message(rid: Any, code: int, text: str, where: str, **data: Any) -> dict[str, Any]:
    """A JSON-RPC error response; ``data`` (with the server) only when there is some."""
    error: dict[str, Any] = {"code": code, "message": text}
    if data:
        error["data"] = {"server": where, **data}
    return {"jsonrpc": "2.0", "id": rid, "error": error}


def failure(exc: TimeoutError | errors.McpAuthError, where: str, timeout: float) -> tuple[int, str, str]:
    """(code, message, reason) for a request that failed with ``exc``.

    Server silence → ``timeout``; no usable token → ``sign_in_required``; any
    other refusal → ``unavailable`` when a retry may work, else ``failed``.
    """
    if isinstance(exc, TimeoutError):
        return (
            UPSTREAM_ERROR,
            f"The MCP server at {where} sent nothing for {timeout:g} seconds; "
            "the bridge gave up on this request.",
            "timeout",
        )
    if isinstance(exc, _SIGN_IN):
        return AUTH_ERROR, exc.user_message, "sign_in_required"
    return UPSTREAM_ERROR, exc.user_message, "unavailable" if exc.transient else "failed"
