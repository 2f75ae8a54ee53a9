"""Dynamic client registration requests and their answers (RFC 7591)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidClientError, OAuthError, RegistrationError
from ..models import ClientRegistration
from .client_auth import AUTH_METHODS
from .request import HttpRequest
from .responses import error_from_response
from .scopes import scope_param

__all__ = ["build_registration_request", "parse_registration_response"]


def build_registration_request(
    registration_endpoint: str,
    *,
    client_name: str,
    redirect_uris: Sequence[str],
    token_endpoint_auth_method: str = "none",
    scopes: Sequence[str] = (),
    software_id: str = "mcp-auth-desktop",
    software_version: str = "0.1.0",
    client_uri: str | None = None,
) -> HttpRequest:
    """A native-app registration: loopback redirect URIs, code + refresh grants."""
    doc: dict[str, Any] = {
        "client_name": client_name,
        "application_type": "native",
        "redirect_uris": list(redirect_uris),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": token_endpoint_auth_method,
        "software_id": software_id,
        "software_version": software_version,
    }
    if scopes:
        doc["scope"] = scope_param(scopes)
    if client_uri:
        doc["client_uri"] = client_uri
    return HttpRequest(
        "POST",
        registration_endpoint,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        json=doc,
    )


def parse_registration_response(
    status: int,
    headers: Mapping[str, str],
    body: Mapping[str, Any] | None,
    *,
    issuer: str,
    now: float,
    requested_redirect_uris: Sequence[str],
    requested_auth_method: str = "none",
    requested_scopes: Sequence[str] = (),
) -> ClientRegistration:
    """Validate an RFC 7591 §3.2 answer; the credentials are bound to ``issuer``."""
    if status not in (200, 201) or (body is not None and "error" in body and "client_id" not in body):
        err = error_from_response(status, headers, body, what="registration endpoint", now=now)
        if err is None or type(err) is OAuthError or isinstance(err, InvalidClientError):
            code = err.error if err else "invalid_response"
            desc = err.description if err else f"the registration endpoint answered HTTP {status}"
            raise RegistrationError(code, desc, status=status, retry_after=err.retry_after if err else None)
        raise err
    if body is None:
        raise RegistrationError("invalid_response", "the registration endpoint sent no JSON body", status=status)
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise RegistrationError("invalid_response", "the registration response has no client_id", status=status)
    secret = body.get("client_secret")
    if secret is not None and not isinstance(secret, str):
        raise RegistrationError("invalid_response", "the registration response has a malformed client_secret", status=status)
    method = body.get("token_endpoint_auth_method", requested_auth_method)
    if not isinstance(method, str) or method not in AUTH_METHODS:
        raise RegistrationError(
            "invalid_response",
            "the authorization server registered an unsupported client authentication method",
            status=status,
        )
    if method != "none" and not secret:
        raise RegistrationError(
            "invalid_response",
            "the registration requires a client secret but the server sent none",
            status=status,
        )
    expires = body.get("client_secret_expires_at")
    secret_expires_at = (
        float(expires) if isinstance(expires, int) and not isinstance(expires, bool) and expires > 0 else None
    )
    uris = body.get("redirect_uris")
    if isinstance(uris, list) and uris and all(isinstance(u, str) for u in uris):
        redirect_uris = tuple(uris)
    else:
        redirect_uris = tuple(requested_redirect_uris)
    rat = body.get("registration_access_token")
    rcu = body.get("registration_client_uri")
    registered_scope = body.get("scope")
    if isinstance(registered_scope, str) and registered_scope.strip():
        scope = tuple(s for s in registered_scope.split(" ") if s)
    else:
        scope = tuple(requested_scopes)
    return ClientRegistration(
        issuer=issuer,
        client_id=client_id,
        method="dcr",
        token_endpoint_auth_method=method,
        client_secret=secret or None,
        client_secret_expires_at=secret_expires_at,
        redirect_uris=redirect_uris,
        registration_access_token=rat if isinstance(rat, str) and rat else None,
        registration_client_uri=rcu if isinstance(rcu, str) and rcu else None,
        registered_at=now,
        scope=scope,
    )
