"""Plain data shared by the core, the storage layer, the manager and the GUI.

All are frozen dataclasses. Secrets are kept out of ``repr()`` so a stray
log line or traceback never shows one. ``to_dict``/``from_dict`` give the
JSON form used by storage; ``from_dict`` ignores unknown keys so an older
build can read a newer file without crashing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, TypeVar

__all__ = [
    "SystemClock",
    "ServerOptions",
    "ServerConfig",
    "ProtectedResourceMetadata",
    "AuthServerMetadata",
    "Discovery",
    "ClientRegistration",
    "RegistrationMethod",
    "TokenSet",
    "CredentialKey",
]


class SystemClock:
    """The real clock (``core.ports.Clock``)."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


_T = TypeVar("_T")


@functools.cache
def _field_names(cls: type[Any]) -> frozenset[str]:
    # Once per class: loading 200 servers called fields() 400 times (bench/bench_gui.py).
    return frozenset(f.name for f in fields(cls))


def _from_mapping(cls: type[_T], data: Mapping[str, Any]) -> dict[str, Any]:
    names = _field_names(cls)  # type: ignore[arg-type]  # a class is hashable
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class ServerOptions:
    """Per-server compatibility switches (all off by default)."""

    #: Send this value as RFC 8707 ``resource`` instead of the canonical URL.
    resource_override: str | None = None
    #: Send no ``resource`` at all (for authorization servers that reject it).
    omit_resource: bool = False
    #: Bind the loopback callback on this fixed port instead of an ephemeral one.
    callback_port: int | None = None
    #: Extra query parameters for the authorization request (e.g. ``prompt``).
    extra_authorize_params: tuple[tuple[str, str], ...] = ()
    #: Allow plain http to loopback IP literals (development servers).
    allow_insecure_loopback: bool = False
    #: Allow URLs learned from servers to point at private/link-local addresses.
    allow_private_network: bool = False
    #: Client ID Metadata Document URL to use as client_id where the AS supports it.
    client_metadata_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_override": self.resource_override,
            "omit_resource": self.omit_resource,
            "callback_port": self.callback_port,
            "extra_authorize_params": [list(p) for p in self.extra_authorize_params],
            "allow_insecure_loopback": self.allow_insecure_loopback,
            "allow_private_network": self.allow_private_network,
            "client_metadata_url": self.client_metadata_url,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerOptions:
        d = _from_mapping(cls, data)
        d["extra_authorize_params"] = tuple(
            (str(k), str(v)) for k, v in d.get("extra_authorize_params") or ()
        )
        return cls(**d)


@dataclass(frozen=True)
class ServerConfig:
    """A server the user added. Not secret; lives in the settings file."""

    id: str
    name: str
    url: str
    scopes: tuple[str, ...] = ()
    #: Pre-registered client id (its secret, if any, lives in the vault).
    client_id: str | None = None
    #: ``none``, ``client_secret_basic`` or ``client_secret_post`` for a pre-registered client.
    client_auth_method: str | None = None
    options: ServerOptions = field(default_factory=ServerOptions)
    added_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "scopes": list(self.scopes),
            "client_id": self.client_id,
            "client_auth_method": self.client_auth_method,
            "options": self.options.to_dict(),
            "added_at": self.added_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerConfig:
        d = _from_mapping(cls, data)
        d["scopes"] = tuple(d.get("scopes") or ())
        d["options"] = ServerOptions.from_dict(d.get("options") or {})
        return cls(**d)


@dataclass(frozen=True)
class ProtectedResourceMetadata:
    """RFC 9728 protected resource metadata, as validated."""

    resource: str
    authorization_servers: tuple[str, ...]
    scopes_supported: tuple[str, ...] | None = None
    bearer_methods_supported: tuple[str, ...] | None = None
    resource_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "authorization_servers": list(self.authorization_servers),
            "scopes_supported": (
                list(self.scopes_supported) if self.scopes_supported is not None else None
            ),
            "bearer_methods_supported": (
                list(self.bearer_methods_supported)
                if self.bearer_methods_supported is not None
                else None
            ),
            "resource_name": self.resource_name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProtectedResourceMetadata:
        d = _from_mapping(cls, data)
        d["authorization_servers"] = tuple(d.get("authorization_servers") or ())
        for k in ("scopes_supported", "bearer_methods_supported"):
            if d.get(k) is not None:
                d[k] = tuple(d[k])
        return cls(**d)


@dataclass(frozen=True)
class AuthServerMetadata:
    """RFC 8414 / OpenID Connect discovery metadata, as validated."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str | None = None
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    jwks_uri: str | None = None
    #: OpenID Connect userinfo endpoint (where the signed-in account can be asked for).
    userinfo_endpoint: str | None = None
    #: RFC 8628 device authorization endpoint (sign-in where the browser cannot reach us).
    device_authorization_endpoint: str | None = None
    scopes_supported: tuple[str, ...] | None = None
    response_types_supported: tuple[str, ...] = ("code",)
    grant_types_supported: tuple[str, ...] = ("authorization_code", "refresh_token")
    code_challenge_methods_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ("client_secret_basic",)
    revocation_endpoint_auth_methods_supported: tuple[str, ...] | None = None
    authorization_response_iss_parameter_supported: bool = False
    client_id_metadata_document_supported: bool = False
    #: True when this document was synthesised from 2025-03-26 defaults.
    legacy_defaults: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuthServerMetadata:
        d = _from_mapping(cls, data)
        for f in fields(cls):
            if isinstance(d.get(f.name), list):
                d[f.name] = tuple(d[f.name])
        return cls(**d)


@dataclass(frozen=True)
class Discovery:
    """What discovery found for one MCP server; persisted so restarts skip it."""

    #: Canonical resource URI of the MCP server (RFC 8707 value).
    resource: str
    auth_server: AuthServerMetadata
    protected_resource: ProtectedResourceMetadata | None = None
    #: Scopes from the 401 challenge, if one carried them.
    challenge_scopes: tuple[str, ...] | None = None
    #: Human-readable trail of the URLs tried and what each gave.
    trail: tuple[str, ...] = ()
    discovered_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "auth_server": self.auth_server.to_dict(),
            "protected_resource": (
                self.protected_resource.to_dict() if self.protected_resource else None
            ),
            "challenge_scopes": (
                list(self.challenge_scopes) if self.challenge_scopes is not None else None
            ),
            "trail": list(self.trail),
            "discovered_at": self.discovered_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Discovery:
        prm = data.get("protected_resource")
        cs = data.get("challenge_scopes")
        return cls(
            resource=str(data["resource"]),
            auth_server=AuthServerMetadata.from_dict(data["auth_server"]),
            protected_resource=ProtectedResourceMetadata.from_dict(prm) if prm else None,
            challenge_scopes=tuple(cs) if cs is not None else None,
            trail=tuple(data.get("trail") or ()),
            discovered_at=float(data.get("discovered_at") or 0.0),
        )


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
        d = _from_mapping(cls, data)
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
        d = _from_mapping(cls, data)
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
