"""OpenID Connect demo features: an ID token for the ``openid`` scope and ``/userinfo``.

The mock has one user (``--subject``, ``--email``). With ``openid`` the token
response carries an ID token (signed with the server's key, ``typ`` JWT,
``aud`` the client id); ``email`` and ``profile`` add those claims to it and
to the userinfo answer (OpenID Connect Core §5.4). ``/userinfo`` takes an
access token of this server that was granted ``openid`` (§5.3).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server import scopes as scope_rules
from mock_server.authorize import mock_state
from mock_server.http_util import NO_STORE, json_no_store
from mock_server.state import MockState

ID_TOKEN_TTL = 3600


def user_claims(mock: MockState, subject: str, scope: str) -> dict[str, Any]:
    granted = scope.split()
    claims: dict[str, Any] = {"sub": subject}
    if scope_rules.EMAIL in granted:
        claims["email"] = mock.config.email
        claims["email_verified"] = True
    if scope_rules.PROFILE in granted:
        claims["preferred_username"] = subject
        claims["name"] = "Demo User"
    return claims


def id_token(mock: MockState, client_id: str, subject: str, scope: str, now: float) -> str:
    claims = {
        "iss": mock.issuer,
        "aud": client_id,
        "iat": int(now),
        "exp": int(now) + ID_TOKEN_TTL,
        **user_claims(mock, subject, scope),
    }
    mock.count("id_tokens_issued")
    return mock.key.sign(claims, typ="JWT")


def _bearer_error(error: str, description: str, status: int) -> Response:
    challenge = f'Bearer error="{error}", error_description="{description}"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"WWW-Authenticate": challenge, **NO_STORE})


async def userinfo_endpoint(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("userinfo_requests")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _bearer_error("invalid_token", "a bearer access token is required", 401)
    check = mock.check_access_token(token.strip())
    if not check.ok or check.record is None:
        return _bearer_error("invalid_token", "the access token is not valid", 401)
    if scope_rules.OPENID not in check.scopes:
        return _bearer_error("insufficient_scope", "the openid scope was not granted", 403)
    return json_no_store(user_claims(mock, check.record.subject, " ".join(check.scopes)))
