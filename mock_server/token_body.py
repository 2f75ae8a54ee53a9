"""The token response every grant that issues tokens shares (code, device code)."""

from __future__ import annotations

from typing import Any

from mock_server import oidc
from mock_server import scopes as scope_rules
from mock_server.records import ClientRecord, NewToken
from mock_server.state import MockState


def token_body(access: str, scope: str, ttl: int, refresh: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    return body


def allows_refresh(client: ClientRecord) -> bool:
    return "refresh_token" in client.metadata.get("grant_types", [])


def new_grant_tokens(
    mock: MockState, client: ClientRecord, *, subject: str, scope: str, resource: str, now: float
) -> tuple[dict[str, Any], list[NewToken]]:
    """The answer and the records of a new grant's first tokens (stored by the caller, atomically).

    The access token's audience is the grant's resource (RFC 8707); a refresh token only for a
    client that registered the refresh_token grant; an ID token with the ``openid`` scope.
    """
    access, access_rec = mock.new_access_token(
        client_id=client.client_id, subject=subject, scope=scope, resource=resource, now=now
    )
    tokens: list[NewToken] = [access_rec]
    refresh: str | None = None
    if allows_refresh(client):
        refresh, refresh_rec = mock.new_refresh_token(scope=scope, resource=resource, now=now)
        tokens.append(refresh_rec)
    body = token_body(access, scope, mock.knobs.access_token_ttl, refresh)
    if scope_rules.OPENID in scope.split():
        body["id_token"] = oidc.id_token(mock, client.client_id, subject, scope, now)
    return body, tokens
