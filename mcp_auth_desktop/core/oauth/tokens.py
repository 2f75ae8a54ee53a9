"""Token requests (authorization code, refresh) and the token response.

``grant_type=authorization_code`` (RFC 6749 §4.1.3, RFC 7636 §4.5, RFC 8707)
and ``grant_type=refresh_token`` (RFC 6749 §6); the answer becomes a
:class:`TokenSet` or an error (:func:`parse_token_response`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import TokenResponseError, sanitize_server_text
from ..models import ClientRegistration, TokenSet
from .client_auth import authenticated_form_request
from .request import HttpRequest
from .responses import error_from_response
from .scopes import scope_param

__all__ = [
    "MAX_EXPIRES_IN",
    "build_code_token_request",
    "build_refresh_token_request",
    "clamp_expires_in",
    "parse_token_response",
]

#: RFC 6749 Appendix A.12 / A.17: access-token = refresh-token = 1*VSCHAR (%x20-7E).
_VSCHARS = re.compile(r"[\x20-\x7e]+")
#: Upper bound for a token lifetime we believe (one year).
MAX_EXPIRES_IN = 365 * 24 * 3600


def build_code_token_request(
    token_endpoint: str,
    registration: ClientRegistration,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    resource: str | None,
    client_secret: str | None = None,
) -> HttpRequest:
    """``grant_type=authorization_code`` (RFC 6749 §4.1.3, RFC 7636 §4.5, RFC 8707)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    if resource is not None:
        form["resource"] = resource
    return authenticated_form_request(token_endpoint, form, registration, client_secret)


def build_refresh_token_request(
    token_endpoint: str,
    registration: ClientRegistration,
    *,
    refresh_token: str,
    resource: str | None,
    scopes: Sequence[str] = (),
    client_secret: str | None = None,
) -> HttpRequest:
    """``grant_type=refresh_token`` (RFC 6749 §6), with ``resource`` as for the code."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if scopes:
        form["scope"] = scope_param(scopes)
    if resource is not None:
        form["resource"] = resource
    return authenticated_form_request(token_endpoint, form, registration, client_secret)


def clamp_expires_in(value: Any) -> float | None:
    """``expires_in`` as seconds within [1, one year]; None when absent or unusable.

    Numbers (ints, finite floats) and all-digit strings (some servers quote
    it) are accepted; 0 and negatives become 1 s, so the token is simply
    refreshed at once rather than believed forever.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        v = value.strip()
        if not (v.isascii() and v.isdigit()) or len(v) > 12:  # "¹".isdigit() is True
            return None
        value = int(v)
    if isinstance(value, int):
        return float(min(max(value, 1), MAX_EXPIRES_IN))
    if isinstance(value, float) and math.isfinite(value):
        return float(min(max(value, 1.0), float(MAX_EXPIRES_IN)))
    return None


def parse_token_response(
    status: int,
    headers: Mapping[str, str],
    body: Mapping[str, Any] | None,
    *,
    now: float,
    requested_scopes: Sequence[str] = (),
    resource: str | None = None,
) -> TokenSet:
    """Turn a token endpoint answer into a :class:`TokenSet`, or raise.

    An ``error`` member is an error even with HTTP 200. Only ``Bearer``
    (any case) is accepted. ``expires_at`` is local receipt time plus the
    clamped ``expires_in``; the access token itself is never parsed.
    """
    err = error_from_response(status, headers, body, what="token endpoint", now=now)
    if err is not None:
        raise err
    if body is None:
        raise TokenResponseError("The token endpoint answered without a JSON body.")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise TokenResponseError("The token endpoint answered without an access token.")
    if not _VSCHARS.fullmatch(access):
        # RFC 6749 A.12: printable ASCII only. Anything else could not travel in an
        # Authorization header, and `mcp-auth token` prints it to a terminal (issue 15 #5).
        raise TokenResponseError(
            "The token endpoint issued an access token with characters a token cannot contain."
        )
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        shown = sanitize_server_text(token_type, 40) if isinstance(token_type, str) else "none"
        raise TokenResponseError(
            f"The token endpoint issued a token of type {shown!r}; only Bearer tokens are supported."
        )
    refresh = body.get("refresh_token")
    if refresh is not None and (not isinstance(refresh, str) or not _VSCHARS.fullmatch(refresh)):
        raise TokenResponseError("The token endpoint sent a malformed refresh token.")
    scope = body.get("scope")
    if isinstance(scope, str) and scope.strip():
        granted = tuple(s for s in scope.split(" ") if s)
    else:
        # RFC 6749 §5.1: omitted scope means the requested scope was granted.
        granted = tuple(requested_scopes)
    lifetime = clamp_expires_in(body.get("expires_in"))
    id_token = body.get("id_token")
    return TokenSet(
        access_token=access,
        token_type="Bearer",
        expires_at=None if lifetime is None else now + lifetime,
        refresh_token=refresh,
        scope=granted,
        issued_at=now,
        resource=resource,
        id_token=id_token if isinstance(id_token, str) and _VSCHARS.fullmatch(id_token) else None,
    )
