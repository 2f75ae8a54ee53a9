"""/token (authorization_code, refresh_token, device_code), /revoke (RFC 7009), /introspect (RFC 7662)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server import device_token
from mock_server import scopes as scope_rules
from mock_server.authorize import check_resource_param, mock_state
from mock_server.http_util import (
    NO_STORE,
    OAuthError,
    client_credentials,
    client_ip,
    json_no_store,
    read_form,
    retry_after_header,
)
from mock_server.state import MockState, client_source_key, new_secret
from mock_server.store import ClientRecord, NewToken, digest
from mock_server.token_body import allows_refresh, new_grant_tokens, token_body
from mock_server.validation import pkce_matches, pkce_value_ok


def _invalid_client(description: str, basic: bool) -> OAuthError:
    headers = {"WWW-Authenticate": 'Basic realm="mock-as"'} if basic else {}
    return OAuthError("invalid_client", description, status=401, headers=headers)


def authenticate_client(mock: MockState, request: Request, form: dict[str, str]) -> ClientRecord:
    """Client authentication per the method the client registered (no silent downgrade)."""
    creds = client_credentials(request, form)
    basic = creds.method == "client_secret_basic"
    if not creds.client_id:
        raise _invalid_client("client authentication failed: no client_id", basic)
    client = mock.store.get_client(creds.client_id)
    if client is None:
        raise _invalid_client("client authentication failed: unknown client", basic)
    registered = client.auth_method
    if registered != creds.method:
        raise _invalid_client(
            f"client authentication failed: this client must use {registered}", basic
        )
    if registered != "none":
        if client.secret_hash is None or creds.secret is None or not hmac.compare_digest(
            digest(creds.secret), client.secret_hash
        ):
            raise _invalid_client("client authentication failed: wrong client secret", basic)
    return client


async def _prelude(mock: MockState, request: Request, bucket: str) -> None:
    latency = mock.knobs.latency
    if latency > 0:
        await asyncio.sleep(latency)
    wait = mock.ip_limiter.hit(f"{bucket}:{client_ip(request)}")
    if wait is not None:
        mock.count("rate_limited")
        raise OAuthError(
            "temporarily_unavailable", "too many requests", status=429, headers=retry_after_header(wait)
        )


def _client_rate_limit(mock: MockState, request: Request, bucket: str, client: ClientRecord) -> None:
    wait = mock.client_limiter.hit(client_source_key(bucket, client.client_id, client_ip(request)))
    if wait is not None:
        mock.count("rate_limited")
        raise OAuthError(
            "temporarily_unavailable", "too many requests for this client", status=429,
            headers=retry_after_header(wait),
        )


def _injected_failure(mock: MockState) -> None:
    failure = mock.knobs.take_failure()
    if failure is None:
        return
    mock.count("injected_failures")
    retry = retry_after_header(mock.knobs.fail_retry_after)
    if failure == "503":
        raise OAuthError("temporarily_unavailable", "injected failure", status=503, headers=retry)
    if failure == "429":
        raise OAuthError("temporarily_unavailable", "injected rate limit", status=429, headers=retry)
    raise OAuthError("invalid_grant", "injected invalid_grant")


async def token_endpoint(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("token_requests")
    try:
        await _prelude(mock, request, "token")
        form = await read_form(request)
        mock.count(f"token_requests:{form.get('grant_type', '')}")
        _injected_failure(mock)
        client = authenticate_client(mock, request, form)
        _client_rate_limit(mock, request, "token", client)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            body = _authorization_code(mock, client, form)
        elif grant_type == "refresh_token":
            body = _refresh(mock, client, form)
        elif grant_type == device_token.GRANT_TYPE and mock.knobs.device_grant:
            body = device_token.redeem(mock, client, form)
        elif not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        else:
            raise OAuthError("unsupported_grant_type", "this grant type is not offered here")
    except OAuthError as exc:
        mock.count(f"token_error:{exc.error}")
        return exc.response()
    return json_no_store(body)


def _authorization_code(mock: MockState, client: ClientRecord, form: dict[str, str]) -> dict[str, Any]:
    code = form.get("code")
    if not code:
        raise OAuthError("invalid_request", "code is required")
    record = mock.store.get_code(code)
    now = mock.now()
    if record is None:
        raise OAuthError("invalid_grant", "the authorization code is unknown")
    # Checks that an attacker could fail on purpose come before consumption, so a wrong
    # client or verifier never revokes the legitimate grant (catalogue #19).
    if record.client_id != client.client_id:
        raise OAuthError("invalid_grant", "the authorization code was issued to another client")
    if "redirect_uri" in form and form["redirect_uri"] != record.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
    verifier = form.get("code_verifier")
    if not record.challenge:
        raise OAuthError("invalid_grant", "the code was issued without PKCE")
    if verifier is None or not pkce_value_ok(verifier) or not pkce_matches(verifier, record.challenge):
        raise OAuthError("invalid_grant", "code_verifier is missing or does not match")
    resource = check_resource_param(mock, form.get("resource"), OAuthError)
    if resource != record.resource:
        raise OAuthError("invalid_grant", "resource differs from the authorization request")
    if now - record.created_at > mock.config.code_ttl:
        raise OAuthError("invalid_grant", "the authorization code expired")
    body, tokens = new_grant_tokens(
        mock, client, subject=record.subject, scope=record.scope, resource=record.resource, now=now
    )
    grant_id = "g_" + new_secret(12)
    if not mock.store.consume_code(code, grant_id=grant_id, now=now, tokens=tokens):
        mock.count("code_replays")
        raise OAuthError("invalid_grant", "the authorization code was already used")
    mock.count("tokens_issued")
    return body


def _refresh(mock: MockState, client: ClientRecord, form: dict[str, str]) -> dict[str, Any]:
    value = form.get("refresh_token")
    if not value:
        raise OAuthError("invalid_request", "refresh_token is required")
    if not allows_refresh(client):
        raise OAuthError("unauthorized_client", "this client did not register the refresh_token grant")
    record = mock.store.get_token_by_value(value)
    now = mock.now()
    if record is None or record.kind != "refresh":
        raise OAuthError("invalid_grant", "the refresh token is unknown")
    if record.client_id != client.client_id:
        raise OAuthError("invalid_grant", "the refresh token was issued to another client")
    if record.used_at is not None:
        mock.store.mark_reuse(record.grant_id, now)
        mock.count("refresh_reuse")
        raise OAuthError("invalid_grant", "the refresh token was already used; the grant is revoked")
    if not record.active_flag:
        raise OAuthError("invalid_grant", "the refresh token was revoked")
    if now >= record.expires_at:
        raise OAuthError("invalid_grant", "the refresh token expired")
    scope = record.scope
    if form.get("scope"):
        parsed = scope_rules.parse_scope(form["scope"])
        granted = set(record.scope.split())
        if parsed is None or any(s not in granted for s in parsed):
            raise OAuthError("invalid_scope", "scope exceeds the original grant")
        scope = scope_rules.join(parsed)
    resource = check_resource_param(mock, form.get("resource"), OAuthError)
    if resource != record.resource:
        raise OAuthError("invalid_target", "resource is outside the original grant")
    access, access_rec = mock.new_access_token(
        client_id=client.client_id, subject=record.subject, scope=scope,
        resource=record.resource, now=now,
    )
    tokens: list[NewToken] = [access_rec]
    rotate = mock.knobs.rotate_refresh_tokens
    new_refresh: str | None = None
    if rotate:
        new_refresh, refresh_rec = mock.new_refresh_token(
            scope=record.scope, resource=record.resource, now=now, parent=record.jti
        )
        tokens.append(refresh_rec)
    outcome = mock.store.rotate_refresh(record.jti, now=now, rotate=rotate, tokens=tokens)
    if outcome == "reused":
        mock.count("refresh_reuse")
        raise OAuthError("invalid_grant", "the refresh token was already used; the grant is revoked")
    if outcome != "ok":
        raise OAuthError("invalid_grant", "the refresh token was revoked")
    mock.count("tokens_refreshed")
    return token_body(access, scope, mock.knobs.access_token_ttl, new_refresh)


async def revoke_endpoint(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("revoke_requests")
    try:
        await _prelude(mock, request, "revoke")
        form = await read_form(request)
        client = authenticate_client(mock, request, form)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
    except OAuthError as exc:
        return exc.response()
    record = mock.store.get_token_by_value(token)
    # Unknown tokens and other clients' tokens get the same silent 200 (RFC 7009 §2.2).
    if record is not None and record.client_id == client.client_id:
        now = mock.now()
        if record.kind == "refresh":
            mock.store.revoke_grant(record.grant_id, now, "revoked_by_client")
        else:
            mock.store.revoke_token(record.jti, now)
        mock.count("revocations")
    return Response(status_code=200, headers=dict(NO_STORE))


async def introspect_endpoint(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("introspect_requests")
    try:
        await _prelude(mock, request, "introspect")
        form = await read_form(request)
        client = authenticate_client(mock, request, form)
        if client.auth_method == "none":
            raise OAuthError("invalid_client", "introspection is for confidential clients", status=401)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
    except OAuthError as exc:
        return exc.response()
    record = mock.store.get_token_by_value(token)
    now = mock.now()
    if (
        record is None
        or record.client_id != client.client_id
        or not record.active_flag
        or now >= record.expires_at
        or record.used_at is not None
    ):
        return json_no_store({"active": False})
    return json_no_store(
        {
            "active": True,
            "scope": record.scope,
            "client_id": record.client_id,
            "sub": record.subject,
            "aud": record.resource,
            "iss": mock.issuer,
            "exp": int(record.expires_at),
            "iat": int(record.issued_at),
            "token_type": "Bearer" if record.kind == "access" else "refresh_token",
        }
    )
