"""The authorization request and its loopback callback.

RFC 6749 §4.1.1 with RFC 7636 PKCE S256 and RFC 8707 ``resource``
(:func:`build_authorization_url`); the callback checked ``state`` first, then
RFC 9207 ``iss``, exactly as the MCP table says, before any ``error`` is looked
at (:func:`parse_callback`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

from ..errors import AuthorizationDenied, CallbackError, ConfigurationError, sanitize_server_text
from ..models import AuthServerMetadata
from ..pkce import constant_time_equal
from ..urls import check_authorization_url
from .scopes import scope_param

__all__ = ["RESERVED_AUTHORIZE_PARAMS", "build_authorization_url", "parse_callback"]

RESERVED_AUTHORIZE_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
        "scope",
        "resource",
    }
)


def build_authorization_url(
    meta: AuthServerMetadata,
    client_id: str,
    redirect_uri: str,
    *,
    state: str,
    code_challenge: str,
    scopes: Sequence[str] = (),
    resource: str | None = None,
    extra_params: Sequence[tuple[str, str]] = (),
    allow_insecure_loopback: bool = False,
) -> str:
    """The URL the browser opens (RFC 6749 §4.1.1 + RFC 7636 + RFC 8707)."""
    if "S256" not in meta.code_challenge_methods_supported:
        raise ConfigurationError("The authorization server does not support PKCE S256.")
    params: list[tuple[str, str]] = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("code_challenge", code_challenge),
        ("code_challenge_method", "S256"),
        ("state", state),
    ]
    if scopes:
        params.append(("scope", scope_param(scopes)))
    if resource is not None:
        params.append(("resource", resource))
    for key, value in extra_params:
        if key in RESERVED_AUTHORIZE_PARAMS:
            raise ConfigurationError(
                f"The extra authorization parameter {key!r} would override a protocol parameter."
            )
        params.append((key, value))
    base = meta.authorization_endpoint
    # RFC 6749 §3.1: an endpoint's own query must be kept.
    sep = "&" if "?" in base else "?"
    url = base + sep + urlencode(params, quote_via=quote, safe="")
    return check_authorization_url(url, allow_insecure_loopback=allow_insecure_loopback)


def parse_callback(
    params: Mapping[str, str],
    *,
    expected_state: str,
    expected_issuer: str,
    iss_supported: bool,
) -> str:
    """Validate the loopback callback and return the authorization code.

    Order matters: ``state`` first (CSRF), then RFC 9207 ``iss`` (mix-up),
    and only then is an ``error`` looked at, so a response from the wrong
    authorization server cannot put its text in front of the user.

    ================  ==============  =====================
    AS advertises     ``iss`` present  ``iss`` absent
    ================  ==============  =====================
    true              compare          reject
    false / absent    compare          proceed
    ================  ==============  =====================

    Comparison is simple string equality: no case folding, no default port
    or trailing-slash normalisation.
    """
    state = params.get("state")
    if not constant_time_equal(state, expected_state):
        raise CallbackError(
            "The sign-in response did not match this sign-in attempt (state mismatch); it was ignored."
        )
    if "iss" in params:
        if params["iss"] != expected_issuer:
            raise CallbackError(
                "The sign-in response came from a different authorization server than the one "
                "this sign-in started with; it was rejected."
            )
    elif iss_supported:
        raise CallbackError(
            "The authorization server promises to identify itself in its response (iss) but did "
            "not; the response was rejected."
        )
    error = params.get("error")
    if error is not None:
        description = params.get("error_description")
        msg = f"The authorization server refused the sign-in: {sanitize_server_text(error, 80)}"
        if description:
            msg += f" ({sanitize_server_text(description)})"
        raise AuthorizationDenied(msg, error=sanitize_server_text(error, 80))
    code = params.get("code")
    if not code:
        raise CallbackError("The sign-in response carried no authorization code.")
    return code
