"""Pure OAuth 2.1 building blocks: requests we send and responses we accept.

Nothing here does I/O. Each function takes plain values and either returns
a request description (:class:`HttpRequest`) or a validated model, or raises
one of :mod:`.errors`. Covered:

* authorization request URL with PKCE S256, ``state``, ``scope`` and RFC 8707
  ``resource`` (:func:`build_authorization_url`);
* the loopback callback: ``state`` then RFC 9207 ``iss``, exactly as the MCP
  table says, before any ``error`` is looked at (:func:`parse_callback`);
* token requests (code, refresh) with client authentication ``none``,
  ``client_secret_basic`` (RFC 6749 §2.3.1 form-encoding before base64) or
  ``client_secret_post``; token responses (:func:`parse_token_response`);
* RFC 7009 revocation and RFC 7591 registration request/response;
* scope selection (MCP "Scope Selection Strategy") and step-up union.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from .errors import (
    AuthorizationDenied,
    CallbackError,
    ConfigurationError,
    InvalidClientError,
    OAuthError,
    RegistrationError,
    TemporarilyUnavailableError,
    TokenResponseError,
    oauth_error_from_response,
    sanitize_server_text,
)
from .http import parse_retry_after
from .metadata import SCOPE_TOKEN_RE
from .models import AuthServerMetadata, ClientRegistration, TokenSet
from .pkce import constant_time_equal
from .urls import check_authorization_url

#: RFC 6749 Appendix A.12 / A.17: access-token = refresh-token = 1*VSCHAR (%x20-7E).
_VSCHARS = re.compile(r"[\x20-\x7e]+")

__all__ = [
    "HttpRequest",
    "AUTH_METHODS",
    "MAX_EXPIRES_IN",
    "RESERVED_AUTHORIZE_PARAMS",
    "build_authorization_url",
    "client_auth",
    "build_code_token_request",
    "build_refresh_token_request",
    "parse_token_response",
    "parse_callback",
    "build_revocation_request",
    "check_revocation_response",
    "build_registration_request",
    "parse_registration_response",
    "choose_auth_method",
    "select_scopes",
    "union_scopes",
    "clamp_expires_in",
    "error_from_response",
]

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
#: Upper bound for a token lifetime we believe (one year).
MAX_EXPIRES_IN = 365 * 24 * 3600
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
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class HttpRequest:
    """A request to send; headers and body stay out of ``repr`` (they carry secrets)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)
    json: Mapping[str, Any] | None = field(default=None, repr=False)

    def httpx_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.AsyncClient.build_request`` / ``fetch_json``."""
        kw: dict[str, Any] = {"headers": dict(self.headers)}
        if self.form is not None:
            kw["content"] = urlencode(dict(self.form)).encode("ascii")
        elif self.json is not None:
            kw["json"] = dict(self.json)
        return kw


# --------------------------------------------------------------------------- scopes


def union_scopes(*groups: Sequence[str] | None) -> tuple[str, ...]:
    """Order-preserving union (step-up: previous scopes plus the challenged ones)."""
    out: list[str] = []
    for group in groups:
        for s in group or ():
            if s and s not in out:
                out.append(s)
    return tuple(out)


def select_scopes(
    challenge_scopes: Sequence[str] | None,
    prm_scopes_supported: Sequence[str] | None,
    as_scopes_supported: Sequence[str] | None,
    configured: Sequence[str] = (),
    previous: Sequence[str] = (),
) -> tuple[str, ...]:
    """Scopes for an authorization request.

    The challenge's ``scope`` wins, else scopes the user configured, else
    all of the PRM's ``scopes_supported``, else none (``scope`` omitted).
    ``previous`` (already granted) is added on step-up. ``offline_access``
    is requested only when the AS lists it, and dropped otherwise.
    """
    if challenge_scopes:
        base = union_scopes(previous, challenge_scopes)
    elif configured:
        base = union_scopes(previous, configured)
    elif prm_scopes_supported:
        base = union_scopes(previous, prm_scopes_supported)
    else:
        base = union_scopes(previous)
    as_lists_offline = bool(as_scopes_supported) and "offline_access" in (as_scopes_supported or ())
    base = tuple(s for s in base if s != "offline_access")
    if base and as_lists_offline:
        base = (*base, "offline_access")
    return base


def _scope_param(scopes: Sequence[str]) -> str:
    for s in scopes:
        if not SCOPE_TOKEN_RE.match(s):
            raise ConfigurationError(f"The scope {sanitize_server_text(s, 60)!r} is not a valid scope token.")
    return " ".join(scopes)


# --------------------------------------------------------------------------- authorization


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
        params.append(("scope", _scope_param(scopes)))
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


# --------------------------------------------------------------------------- client authentication


def choose_auth_method(supported: Sequence[str], *, has_secret: bool, preferred: str | None = None) -> str:
    """Token endpoint authentication method for a client.

    An explicit choice wins. A public client (no secret) uses ``none``; with
    a secret, ``client_secret_basic`` (the RFC 6749 default) unless the AS
    lists only ``client_secret_post``.
    """
    if preferred:
        if preferred not in AUTH_METHODS:
            raise ConfigurationError(
                f"Unsupported client authentication method {preferred!r}; use one of "
                + ", ".join(AUTH_METHODS)
                + "."
            )
        return preferred
    if not has_secret:
        return "none"
    if "client_secret_basic" in supported or "client_secret_post" not in supported:
        return "client_secret_basic"
    return "client_secret_post"


def client_auth(
    form: dict[str, str], client_id: str, client_secret: str | None, method: str
) -> dict[str, str]:
    """Add client authentication to a token/revocation form; return extra headers."""
    if method == "none":
        form["client_id"] = client_id
        return {}
    if not client_secret:
        raise ConfigurationError(
            f"The client authentication method {method} needs a client secret, but none is stored."
        )
    if method == "client_secret_basic":
        # RFC 6749 §2.3.1: form-encode id and secret *before* base64. The id goes in the
        # body too (§3.2.1 allows it): authorization servers built on the MCP SDKs look
        # the client up by the body's client_id before reading the header.
        form["client_id"] = client_id
        raw = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
        return {"Authorization": "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")}
    if method == "client_secret_post":
        form["client_id"] = client_id
        form["client_secret"] = client_secret
        return {}
    raise ConfigurationError(f"Unsupported client authentication method {method!r}.")


def _token_request(
    url: str, form: dict[str, str], registration: ClientRegistration, client_secret: str | None
) -> HttpRequest:
    secret = client_secret if client_secret is not None else registration.client_secret
    headers = client_auth(form, registration.client_id, secret, registration.token_endpoint_auth_method)
    headers.update({"Content-Type": _FORM, "Accept": "application/json"})
    return HttpRequest("POST", url, headers=headers, form=form)


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
    return _token_request(token_endpoint, form, registration, client_secret)


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
        form["scope"] = _scope_param(scopes)
    if resource is not None:
        form["resource"] = resource
    return _token_request(token_endpoint, form, registration, client_secret)


# --------------------------------------------------------------------------- responses


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


# --------------------------------------------------------------------------- revocation (RFC 7009)


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
    return _token_request(revocation_endpoint, form, registration, client_secret)


def check_revocation_response(
    status: int, headers: Mapping[str, str], body: Mapping[str, Any] | None, *, now: float | None = None
) -> None:
    """RFC 7009 §2.2: 200 means revoked (or already invalid); raise otherwise."""
    if status == 200:
        return
    err = error_from_response(status, headers, body, what="revocation endpoint", now=now)
    raise err or OAuthError("invalid_response", f"the revocation endpoint answered HTTP {status}", status=status)


# --------------------------------------------------------------------------- registration (RFC 7591)


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
        doc["scope"] = _scope_param(scopes)
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
