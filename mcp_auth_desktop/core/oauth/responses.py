"""The OAuth error an endpoint's answer carries (RFC 6749 §5.2), shared by every endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import (
    InvalidClientError,
    OAuthError,
    TemporarilyUnavailableError,
    oauth_error_from_response,
)
from ..retry_after import parse_retry_after

__all__ = ["error_from_response"]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lname = name.lower()
        for k, v in headers.items():
            if k.lower() == lname:
                return v
    return value


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: Mapping[str, Any] | None,
    *,
    what: str,
    now: float | None = None,
) -> OAuthError | None:
    """The OAuth error a response carries (``error`` member or a failing status), else None."""
    retry_after = parse_retry_after(_header(headers, "Retry-After"), now=now)
    error = body.get("error") if body else None
    if error is not None:
        if not isinstance(error, str) or not error:
            error = "invalid_response"
        desc = body.get("error_description") if body else None
        uri = body.get("error_uri") if body else None
        return oauth_error_from_response(
            error,
            desc if isinstance(desc, str) else None,
            status=status,
            uri=uri if isinstance(uri, str) else None,
            retry_after=retry_after,
        )
    if status >= 500 or status == 429:
        return TemporarilyUnavailableError(
            "temporarily_unavailable",
            f"the {what} answered HTTP {status}",
            status=status,
            retry_after=retry_after,
        )
    if status == 401:
        return InvalidClientError("invalid_client", f"the {what} answered HTTP 401", status=status)
    if not 200 <= status < 300:
        return OAuthError("invalid_response", f"the {what} answered HTTP {status}", status=status)
    return None
