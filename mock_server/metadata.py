"""Discovery documents: RFC 8414 / OpenID configuration, RFC 9728 PRM, and the JWKS."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server import scopes as scope_rules
from mock_server.authorize import mock_state
from mock_server.device_endpoint import AUTHORIZATION_PATH as DEVICE_AUTHORIZATION_PATH
from mock_server.device_token import GRANT_TYPE as DEVICE_GRANT
from mock_server.state import MockState

METADATA_CACHE = {"Cache-Control": "public, max-age=60"}


def as_metadata(mock: MockState, *, openid: bool = False) -> dict[str, Any]:
    issuer = mock.issuer
    doc: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "registration_endpoint": issuer + "/register",
        "revocation_endpoint": issuer + "/revoke",
        "introspection_endpoint": issuer + "/introspect",
        "jwks_uri": issuer + "/jwks.json",
        "userinfo_endpoint": issuer + "/userinfo",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(scope_rules.AS_SCOPES),
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": mock.knobs.advertise_iss,
        "resource_indicators_supported": True,
    }
    if mock.knobs.device_grant:
        doc["device_authorization_endpoint"] = issuer + DEVICE_AUTHORIZATION_PATH
        doc["grant_types_supported"] = [*doc["grant_types_supported"], DEVICE_GRANT]
    if openid:
        doc["subject_types_supported"] = ["public"]
        doc["id_token_signing_alg_values_supported"] = [mock.config.signing_alg]
        doc["claims_supported"] = ["iss", "sub", "aud", "exp", "iat", "email", "name",
                                   "preferred_username"]
    return doc


def prm(mock: MockState) -> dict[str, Any]:
    return {
        "resource": mock.resource,
        "authorization_servers": [mock.resource_issuer],
        "scopes_supported": list(scope_rules.PRM_SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "MCP Auth Desktop mock server",
    }


async def oauth_metadata(request: Request) -> Response:
    return JSONResponse(as_metadata(mock_state(request)), headers=METADATA_CACHE)


async def openid_metadata(request: Request) -> Response:
    return JSONResponse(as_metadata(mock_state(request), openid=True), headers=METADATA_CACHE)


async def protected_resource_metadata(request: Request) -> Response:
    return JSONResponse(prm(mock_state(request)), headers=METADATA_CACHE)


async def jwks(request: Request) -> Response:
    mock = mock_state(request)
    return JSONResponse({"keys": [mock.key.public_jwk()]}, headers=METADATA_CACHE)
