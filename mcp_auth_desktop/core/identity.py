"""Which account a sign-in is for (issue 16: "which account am I signed in as?").

Sources, best first:

1. ``id_token``: the OpenID Connect ID token of the token response, when the
   sign-in asked for ``openid``. ``iss`` must be the authorization server we
   discovered, ``aud`` must hold our client id, ``exp`` must be in the future
   (OpenID Connect Core §3.1.3.7). Its signature is not checked: the token came
   straight from the token endpoint over the connection our URL rules allowed,
   which §3.1.3.7 (6) accepts in place of the signature for the code flow.
2. ``userinfo``: the OpenID Connect userinfo endpoint, asked with the access
   token when the AS advertises one and ``openid`` was granted; its ``sub`` must
   equal the ID token's when there was one (§5.3.2).
3. ``introspection``: RFC 7662 for a client with a secret (public clients may
   not introspect); only an ``active`` answer from our issuer is used.
4. ``access_token``: the access token's own claims when it is a JWT. Nothing
   about it is verified (the token is opaque to a client), and it is shown so.
5. unknown.

What is kept is only what is shown (subject, e-mail, username, name), with the
tokens in the vault: an e-mail address is personal data.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from .errors import McpAuthError, sanitize_server_text
from .models import AuthServerMetadata, ClientRegistration, TokenSet
from .oauth.client_auth import client_auth
from .urls import UrlGuard

if TYPE_CHECKING:
    import httpx

__all__ = ["Identity", "IdentitySource", "SOURCES", "resolve_identity", "identity_from_id_token",
           "identity_from_jwt_access_token", "unverified_claims", "account_fields"]

log = logging.getLogger(__name__)

IdentitySource = Literal["id_token", "userinfo", "introspection", "access_token"]
SOURCES: tuple[IdentitySource, ...] = ("id_token", "userinfo", "introspection", "access_token")
#: Clock skew allowed on the ID token's ``exp`` (seconds).
LEEWAY = 120.0
_MAX_CLAIM = 200


@dataclass(frozen=True)
class Identity:
    """The signed-in account as one source told it. No secret; personal data."""

    source: IdentitySource
    subject: str | None = None
    email: str | None = None
    username: str | None = None
    name: str | None = None
    #: False for claims read from an access token nobody checked.
    verified: bool = True

    @property
    def display(self) -> str | None:
        """The most recognisable name for a person: e-mail, username, name, subject."""
        return self.email or self.username or self.name or self.subject

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "subject": self.subject, "email": self.email,
                "username": self.username, "name": self.name, "verified": self.verified}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Identity | None:
        if not data or data.get("source") not in SOURCES:
            return None

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        return cls(source=data["source"], subject=text("subject"), email=text("email"),
                   username=text("username"), name=text("name"),
                   verified=bool(data.get("verified", True)))


def _claim(claims: Mapping[str, Any], key: str) -> str | None:
    value = claims.get(key)
    if isinstance(value, str) and value.strip():
        return sanitize_server_text(value.strip(), _MAX_CLAIM)
    if isinstance(value, int) and not isinstance(value, bool) and key == "sub":
        return str(value)
    return None


def _from_claims(claims: Mapping[str, Any], source: IdentitySource, *, verified: bool) -> Identity | None:
    found = Identity(
        source=source,
        subject=_claim(claims, "sub"),
        email=_claim(claims, "email"),
        username=_claim(claims, "preferred_username") or _claim(claims, "username"),
        name=_claim(claims, "name"),
        verified=verified,
    )
    return found if found.display else None


def unverified_claims(jwt: str) -> dict[str, Any] | None:
    """The payload of a compact JWS, or None when ``jwt`` is not one. Nothing is verified."""
    parts = jwt.split(".")
    if len(parts) != 3 or len(jwt) > 16_384:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


def identity_from_id_token(
    id_token: str, *, issuer: str, client_id: str, now: float
) -> Identity | None:
    """The account an ID token names, or None when it fails iss, aud or exp (logged why)."""
    claims = unverified_claims(id_token)
    if claims is None:
        log.warning("the ID token is not a JWT; it was not used")
        return None
    if claims.get("iss") != issuer:
        log.warning("the ID token names another issuer; it was not used")
        return None
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        log.warning("the ID token is not for this app (aud); it was not used")
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp + LEEWAY < now:
        log.warning("the ID token has no valid expiry; it was not used")
        return None
    return _from_claims(claims, "id_token", verified=True)


def identity_from_jwt_access_token(access_token: str) -> Identity | None:
    claims = unverified_claims(access_token)
    return _from_claims(claims, "access_token", verified=False) if claims else None


async def _userinfo(
    http: httpx.AsyncClient, endpoint: str, tokens: TokenSet, guard: UrlGuard
) -> dict[str, Any] | None:
    from .http import fetch_json  # the HTTP stack: loaded by the first request, not at start

    response, body = await fetch_json(
        http, "GET", endpoint, guard=guard, purpose="userinfo endpoint",
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    return body if response.status_code == 200 else None


async def _introspect(
    http: httpx.AsyncClient,
    meta: AuthServerMetadata,
    registration: ClientRegistration,
    tokens: TokenSet,
    guard: UrlGuard,
    secret: str,
) -> dict[str, Any] | None:
    assert meta.introspection_endpoint is not None  # noqa: S101 - checked by the caller
    data = {"token": tokens.access_token, "token_type_hint": "access_token"}
    headers = client_auth(data, registration.client_id, secret,
                          registration.token_endpoint_auth_method)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    from .http import fetch_json

    response, body = await fetch_json(
        http, "POST", meta.introspection_endpoint, guard=guard, purpose="introspection endpoint",
        content=urlencode(data).encode("ascii"), headers=headers,
    )
    if response.status_code != 200 or not body or body.get("active") is not True:
        return None
    if "iss" in body and body.get("iss") != meta.issuer:
        return None
    return body


async def resolve_identity(
    http: httpx.AsyncClient,
    meta: AuthServerMetadata,
    registration: ClientRegistration,
    tokens: TokenSet,
    *,
    guard: UrlGuard,
    now: float,
    client_secret: str | None = None,
) -> Identity | None:
    """The account ``tokens`` were issued for, from the best source that answers; None: unknown.

    A source that fails (network, refusal, odd answer) is logged and the next is tried: the
    sign-in itself succeeded, and the account is only shown.
    """
    from_id: Identity | None = None
    if tokens.id_token:
        from_id = identity_from_id_token(
            tokens.id_token, issuer=meta.issuer, client_id=registration.client_id, now=now
        )
        if from_id is not None and (from_id.email or from_id.username):
            return from_id
    if meta.userinfo_endpoint and "openid" in tokens.scope:
        try:
            body = await _userinfo(http, meta.userinfo_endpoint, tokens, guard)
        except McpAuthError as exc:
            log.info("userinfo endpoint: %s", exc.user_message)
            body = None
        if body is not None and (from_id is None or body.get("sub") == from_id.subject):
            found = _from_claims(body, "userinfo", verified=True)
            if found is not None:
                return found
    if from_id is not None:
        return from_id
    secret = client_secret or registration.client_secret
    # RFC 7662 §2.1: the caller must authenticate; a public client has nothing to show.
    if meta.introspection_endpoint and secret and registration.token_endpoint_auth_method != "none":
        try:
            body = await _introspect(http, meta, registration, tokens, guard, secret)
        except McpAuthError as exc:
            log.info("introspection endpoint: %s", exc.user_message)
            body = None
        if body is not None:
            found = _from_claims(body, "introspection", verified=True)
            if found is not None:
                return found
    return identity_from_jwt_access_token(tokens.access_token)


def account_fields(identity: Identity | None) -> dict[str, Any]:
    """The ``ServerView`` fields for an identity (``account``, its source, verified or not)."""
    if identity is None or identity.display is None:
        return {"account": None, "account_source": None, "account_verified": False}
    return {"account": identity.display, "account_source": identity.source,
            "account_verified": identity.verified}
