"""Bearer-token protection of /mcp (RFC 6750 / RFC 9728), the same in every protocol era."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server import scopes as scope_rules
from mock_server.state import MockState, TokenCheck

ANONYMOUS = TokenCheck(
    True,
    description="authorization is off (--no-auth)",
    claims={"sub": "anonymous", "client_id": "anonymous", "scope": " ".join(scope_rules.AS_SCOPES)},
)
"""What a request is treated as when the server runs with --no-auth (conformance runs only)."""


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(mock: MockState, **params: str) -> str:
    """A Bearer challenge with resource_metadata always present (RFC 9728 §5.1)."""
    items = dict(params)
    items["resource_metadata"] = mock.prm_url
    ordered = ["error", "error_description", "scope", "resource_metadata"]
    parts = [f"{k}={_quote(items[k])}" for k in ordered if k in items]
    return "Bearer " + ", ".join(parts)


def _auth_error(mock: MockState, status: int, error: str | None, description: str) -> Response:
    if error is None:
        header = challenge(mock, scope=scope_rules.BASE_CHALLENGE_SCOPE)
        body: dict[str, str] = {"error": "unauthorized", "error_description": description}
    else:
        header = challenge(mock, error=error, error_description=description)
        body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers={"WWW-Authenticate": header})


def authenticate(mock: MockState, request: Request) -> TokenCheck | Response:
    """RFC 6750 header-only bearer authentication; query-string tokens are ignored."""
    if not mock.config.require_auth:
        return ANONYMOUS
    headers = request.headers.getlist("authorization")
    if not headers:
        return _auth_error(mock, 401, None, "An access token is required")
    if len(headers) > 1:
        return _auth_error(mock, 400, "invalid_request", "Send exactly one Authorization header")
    scheme, _, token = headers[0].strip().partition(" ")
    if scheme.lower() != "bearer":
        return _auth_error(mock, 401, None, "Use the Bearer authentication scheme")
    token = token.strip()
    if not token or " " in token:
        return _auth_error(mock, 400, "invalid_request", "The Bearer credentials are malformed")
    check = mock.check_access_token(token)
    if not check.ok:
        mock.count("rs_invalid_token")
        return _auth_error(mock, 401, "invalid_token", check.description)
    return check


def insufficient_scope(mock: MockState, id_: Any, needed: tuple[str, ...]) -> Response:
    """403 with the scopes the operation needs (MCP step-up authorization)."""
    scope = scope_rules.join(needed)
    description = f"This operation needs the scope(s): {scope}"
    mock.count("rs_insufficient_scope")
    return JSONResponse(
        {"jsonrpc": "2.0", "id": id_, "error": {"code": -32001, "message": "insufficient_scope: " + description}},
        status_code=403,
        headers={
            "WWW-Authenticate": challenge(mock, error="insufficient_scope", scope=scope, error_description=description)
        },
    )


def origin_allowed(mock: MockState, origin: str) -> bool:
    allowed = {mock.config.base_url}
    scheme, _, authority = mock.config.base_url.partition("://")
    _, _, port = authority.rpartition(":")
    if port.isascii() and port.isdigit():
        allowed.update(f"{scheme}://{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]"))
    return origin in allowed
