"""Token revocation requests and their answers (RFC 7009)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import OAuthError
from ..models import ClientRegistration
from .client_auth import authenticated_form_request
from .request import HttpRequest
from .responses import error_from_response

__all__ = ["build_revocation_request", "check_revocation_response"]


def build_revocation_request(
    revocation_endpoint: str,
    registration: ClientRegistration,
    token: str,
    token_type_hint: str,
    *,
    client_secret: str | None = None,
) -> HttpRequest:
    if token_type_hint not in ("access_token", "refresh_token"):
        raise ValueError("token_type_hint must be access_token or refresh_token")
    form = {"token": token, "token_type_hint": token_type_hint}
    return authenticated_form_request(revocation_endpoint, form, registration, client_secret)


def check_revocation_response(
    status: int, headers: Mapping[str, str], body: Mapping[str, Any] | None, *, now: float | None = None
) -> None:
    """RFC 7009 §2.2: 200 means revoked (or already invalid); raise otherwise."""
    if status == 200:
        return
    err = error_from_response(status, headers, body, what="revocation endpoint", now=now)
    raise err or OAuthError("invalid_response", f"the revocation endpoint answered HTTP {status}", status=status)
