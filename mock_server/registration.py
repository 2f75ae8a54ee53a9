"""RFC 7591 dynamic client registration and RFC 7592 read/update/delete."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server import scopes as scope_rules
from mock_server.authorize import mock_state
from mock_server.clients import RegistrationError, validate_client_metadata
from mock_server.http_util import NO_STORE, client_ip, parse_json_object, retry_after_header
from mock_server.state import MockState, new_secret
from mock_server.store import ClientRecord, digest


def _error(error: str, description: str, status: int = 400, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def _client_uri(mock: MockState, client_id: str) -> str:
    return mock.issuer + "/register/" + quote(client_id, safe="")


def _registration_body(
    mock: MockState, record: ClientRecord, *, secret: str | None, rat: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"client_id": record.client_id, **record.metadata}
    body["client_id_issued_at"] = int(record.created_at)
    if secret is not None:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0
    if rat is not None:
        body["registration_access_token"] = rat
    body["registration_client_uri"] = mock.knobs.registration_client_uri or _client_uri(mock, record.client_id)
    return body


async def _json_body(request: Request) -> dict[str, Any] | None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise RegistrationError("invalid_client_metadata", "the body must be application/json")
    return parse_json_object(await request.body())


async def register(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("register_requests")
    if mock.knobs.latency > 0:
        await asyncio.sleep(mock.knobs.latency)
    wait = mock.ip_limiter.hit("register:" + client_ip(request))
    if wait is not None:
        mock.count("rate_limited")
        return _error("temporarily_unavailable", "too many registrations", 429, retry_after_header(wait))
    try:
        metadata = validate_client_metadata(
            await _json_body(request),
            strict_application_type=mock.config.strict_application_type,
            allowed_scopes=scope_rules.AS_SCOPES,
        )
    except RegistrationError as exc:
        return _error(exc.error, exc.description)
    client_id = "mcp_" + new_secret(16)
    secret = None if metadata["token_endpoint_auth_method"] == "none" else new_secret(32)
    rat = "rat_" + new_secret(32)
    now = mock.now()
    mock.store.put_client(client_id, secret=secret, metadata=metadata, source="dcr", rat=rat, now=now)
    record = mock.store.get_client(client_id)
    assert record is not None
    mock.count("clients_registered")
    return JSONResponse(
        _registration_body(mock, record, secret=secret, rat=rat), status_code=201, headers=dict(NO_STORE)
    )


def _authorize_management(mock: MockState, request: Request) -> ClientRecord | Response:
    client_id = request.path_params["client_id"]
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    headers = request.headers.getlist("authorization")
    if len(headers) != 1:
        return _error("invalid_token", "a registration access token is required", 401,
                      {"WWW-Authenticate": "Bearer"})
    scheme, _, token = headers[0].partition(" ")
    record = mock.store.get_client(client_id)
    if (
        scheme.lower() != "bearer"
        or record is None
        or record.rat_hash is None
        or not hmac.compare_digest(digest(token.strip()), record.rat_hash)
    ):
        return _error("invalid_token", "the registration access token is not valid for this client", 401, challenge)
    return record


async def manage_client(request: Request) -> Response:
    mock = mock_state(request)
    auth = _authorize_management(mock, request)
    if isinstance(auth, Response):
        return auth
    record = auth
    if request.method == "GET":
        return JSONResponse(_registration_body(mock, record, secret=None, rat=None), headers=dict(NO_STORE))
    if request.method == "DELETE":
        mock.store.delete_client(record.client_id, mock.now())
        mock.count("clients_deleted")
        return Response(status_code=204, headers=dict(NO_STORE))
    try:
        body = await _json_body(request)
        if body is None:
            raise RegistrationError("invalid_client_metadata", "the body must be a JSON object")
        if body.get("client_id") != record.client_id:
            raise RegistrationError("invalid_client_metadata", "client_id must match the client being updated")
        for forbidden in ("registration_access_token", "registration_client_uri", "client_id_issued_at",
                          "client_secret_expires_at"):
            if forbidden in body:
                raise RegistrationError("invalid_client_metadata", f"{forbidden} must not be sent")
        if "client_secret" in body and (
            record.secret_hash is None
            or not isinstance(body["client_secret"], str)
            or not hmac.compare_digest(digest(body["client_secret"]), record.secret_hash)
        ):
            raise RegistrationError("invalid_client_metadata", "client_secret does not match")
        metadata = validate_client_metadata(
            {k: v for k, v in body.items() if k not in ("client_id", "client_secret")},
            strict_application_type=mock.config.strict_application_type,
            allowed_scopes=scope_rules.AS_SCOPES,
        )
    except RegistrationError as exc:
        return _error(exc.error, exc.description)
    if metadata["token_endpoint_auth_method"] != record.auth_method:
        return _error("invalid_client_metadata", "token_endpoint_auth_method cannot change")
    mock.store.update_client_metadata(record.client_id, metadata)
    updated = mock.store.get_client(record.client_id)
    assert updated is not None
    return JSONResponse(_registration_body(mock, updated, secret=None, rat=None), headers=dict(NO_STORE))
