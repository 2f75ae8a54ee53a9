"""Calls to the authorization server's token and revocation endpoints.

The I/O around the pure steps of :mod:`.oauth`: build the request there,
send it through :func:`.http.fetch_json` under the caller's URL guard, and
hand the answer back to :mod:`.oauth` to be checked. Called by
``core.flow.OAuthClient``; the clock is read when the answer has arrived
(token expiry counts from receipt).
"""

from __future__ import annotations

from typing import Any

import httpx

from . import stale_client
from .browser_sign_in import PendingAuthorization
from .errors import McpAuthError, OAuthError
from .http import fetch_json
from .models import ClientRegistration, Discovery, TokenSet
from .oauth.request import HttpRequest
from .oauth.revocation import build_revocation_request, check_revocation_response
from .oauth.tokens import (
    build_code_token_request,
    build_refresh_token_request,
    parse_token_response,
)
from .ports import Clock
from .state import RevocationReport
from .urls import UrlGuard

__all__ = ["exchange_code", "refresh_grant", "revoke_tokens", "send"]


async def send(
    http: httpx.AsyncClient, request: HttpRequest, guard: UrlGuard, purpose: str, *, json_required: bool = True
) -> tuple[httpx.Response, dict[str, Any] | None]:
    """Send one request built by :mod:`.oauth` through the checked HTTP path."""
    return await fetch_json(
        http,
        request.method,
        request.url,
        guard=guard,
        purpose=purpose,
        json_required=json_required,
        **request.httpx_kwargs(),
    )


async def exchange_code(
    http: httpx.AsyncClient,
    discovery: Discovery,
    reg: ClientRegistration,
    pending: PendingAuthorization,
    code: str,
    guard: UrlGuard,
    client_secret: str | None,
    clock: Clock,
) -> TokenSet:
    """The authorization code (with its verifier and resource) for tokens."""
    request = build_code_token_request(
        discovery.auth_server.token_endpoint,
        reg,
        code=code,
        redirect_uri=pending.redirect_uri,
        code_verifier=pending.code_verifier,
        resource=pending.resource,
        client_secret=client_secret if reg.method == "preregistered" else None,
    )
    response, body = await send(http, request, guard, "token endpoint")
    return parse_token_response(
        response.status_code,
        response.headers,
        body,
        now=clock.time(),
        requested_scopes=pending.scopes,
        resource=pending.resource or discovery.resource,
    )


async def refresh_grant(
    http: httpx.AsyncClient,
    discovery: Discovery,
    registration: ClientRegistration,
    tokens: TokenSet,
    refresh_token: str,
    resource: str | None,
    guard: UrlGuard,
    clock: Clock,
) -> TokenSet:
    """``tokens`` renewed with ``refresh_token`` (theirs; a missing rotated one keeps it)."""
    request = build_refresh_token_request(
        discovery.auth_server.token_endpoint, registration, refresh_token=refresh_token, resource=resource
    )
    response, body = await send(http, request, guard, "token endpoint")
    new = parse_token_response(
        response.status_code,
        response.headers,
        body,
        now=clock.time(),
        requested_scopes=tokens.scope,
        resource=tokens.resource or resource or discovery.resource,
    )
    return tokens.with_refresh(new)


async def revoke_tokens(
    http: httpx.AsyncClient,
    endpoint: str,
    registration: ClientRegistration,
    tokens: TokenSet,
    guard: UrlGuard,
    clock: Clock,
) -> RevocationReport:
    """Revoke the refresh token, then the access token (RFC 7009); what happened, in a report."""
    problems: list[str] = []
    client_unknown = False
    done = {"refresh_token": False, "access_token": False}
    # Refresh token first: revoking it usually takes the access tokens with it,
    # and it is the long-lived secret (RFC 7009 §2.1).
    for hint, token in (("refresh_token", tokens.refresh_token), ("access_token", tokens.access_token)):
        if not token:
            continue
        request = build_revocation_request(endpoint, registration, token, hint)
        try:
            response, body = await send(http, request, guard, "revocation endpoint", json_required=False)
            check_revocation_response(response.status_code, response.headers, body, now=clock.time())
            done[hint] = True
        except McpAuthError as exc:
            what = "refresh token" if hint == "refresh_token" else "access token"
            if stale_client.is_stale_client(exc):
                # Another registration could not revoke what was issued to this one
                # (RFC 7009 §2.1 binds the token to its client); say it as it is.
                client_unknown = True
                problems.append(stale_client.REVOCATION_CLIENT_UNKNOWN)
                break
            if isinstance(exc, OAuthError) and exc.error == "unsupported_token_type":
                problems.append(f"the server cannot revoke the {what}")
            else:
                problems.append(f"{what}: {exc.user_message}")
    return RevocationReport(
        supported=True,
        refresh_token_revoked=done["refresh_token"],
        access_token_revoked=done["access_token"],
        errors=tuple(problems),
        client_unknown=client_unknown,
    )
