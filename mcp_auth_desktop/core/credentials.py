"""The values that carry secrets: client registrations and token sets.

Frozen dataclasses like those of :mod:`core.models` (whose conventions they follow:
secrets are kept out of ``repr()``; ``to_dict``/``from_dict`` give the JSON form the
vault stores, and ``from_dict`` ignores unknown keys). Apart from them because the
window's first frame (gui/entry.py's PRELOAD) reads the servers and their discovery
but never a secret, and each dataclass costs about a millisecond to create.
:mod:`core.models` still answers these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .known_fields import known_fields

__all__ = ["ClientRegistration", "CredentialKey", "RegistrationMethod", "TokenSet"]


RegistrationMethod = Literal["preregistered", "cimd", "dcr"]


@dataclass(frozen=True)
class ClientRegistration:
    """A client identity at one authorization server (bound to ``issuer``)."""

    issuer: str
    client_id: str
    method: RegistrationMethod
    token_endpoint_auth_method: str = "none"
    client_secret: str | None = field(default=None, repr=False)
    client_secret_expires_at: float | None = None
    redirect_uris: tuple[str, ...] = ()
    registration_access_token: str | None = field(default=None, repr=False)
    registration_client_uri: str | None = None
    registered_at: float = 0.0
    #: Scopes registered with the client (RFC 7591 ``scope``); () when unknown.
    scope: tuple[str, ...] = ()
    #: Where the client was registered; its origin may hold registration_client_uri.
    registration_endpoint: str | None = None

    @property
    def deletable(self) -> bool:
        """Whether RFC 7592 lets us delete it: our own dynamic registration, with its credentials."""
        return (
            self.method == "dcr"
            and bool(self.registration_access_token)
            and bool(self.registration_client_uri)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "method": self.method,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "client_secret": self.client_secret,
            "client_secret_expires_at": self.client_secret_expires_at,
            "redirect_uris": list(self.redirect_uris),
            "registration_access_token": self.registration_access_token,
            "registration_client_uri": self.registration_client_uri,
            "registered_at": self.registered_at,
            "scope": list(self.scope),
            "registration_endpoint": self.registration_endpoint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClientRegistration:
        d = known_fields(cls, data)
        d["redirect_uris"] = tuple(d.get("redirect_uris") or ())
        d["scope"] = tuple(d.get("scope") or ())
        return cls(**d)


@dataclass(frozen=True)
class TokenSet:
    """Tokens from one grant. The access token is opaque to the client."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    #: Absolute wall-clock expiry (receipt time + expires_in), or None if unknown.
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    #: Granted scopes (from the response, else the requested ones).
    scope: tuple[str, ...] = ()
    issued_at: float = 0.0
    #: Canonical resource these tokens were issued for.
    resource: str | None = None
    #: The signed-in account as core/identity.py resolved it (JSON form of ``Identity``).
    #: Kept with the tokens, in the vault: an e-mail address is personal data.
    identity: Mapping[str, Any] | None = None
    #: The OpenID Connect ID token of this response; read once, never stored.
    id_token: str | None = field(default=None, repr=False, compare=False)

    def expires_in(self, now: float) -> float | None:
        return None if self.expires_at is None else self.expires_at - now

    def is_expired(self, now: float, leeway: float = 0.0) -> bool:
        return self.expires_at is not None and now + leeway >= self.expires_at

    def lifetime(self) -> float | None:
        return None if self.expires_at is None else max(0.0, self.expires_at - self.issued_at)

    def with_refresh(self, new: TokenSet) -> TokenSet:
        """The result of a refresh: keep the old refresh token when none was returned."""
        if new.refresh_token is None and self.refresh_token is not None:
            new = replace(new, refresh_token=self.refresh_token)
        if new.identity is None and self.identity is not None:
            # The same grant, so the same account (a refresh rarely repeats the ID token).
            new = replace(new, identity=self.identity)
        return new

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "scope": list(self.scope),
            "issued_at": self.issued_at,
            "resource": self.resource,
            "identity": dict(self.identity) if self.identity is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        d = known_fields(cls, data)
        d["scope"] = tuple(d.get("scope") or ())
        d.pop("id_token", None)
        if not isinstance(d.get("identity"), Mapping):
            d["identity"] = None
        return cls(**d)


@dataclass(frozen=True)
class CredentialKey:
    """Where a token set belongs: (issuer, client id, resource, profile)."""

    issuer: str
    client_id: str
    resource: str
    profile: str = "default"

    def storage_name(self) -> str:
        """A stable vault entry name for this key (no secret in it)."""
        from mcp_auth_desktop.core.entry_names import token_entry_name

        return token_entry_name(self.issuer, self.client_id, self.resource, self.profile)
