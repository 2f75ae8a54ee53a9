"""Plain data shared by the core, the storage layer, the manager and the GUI.

All are frozen dataclasses. Secrets are kept out of ``repr()`` so a stray
log line or traceback never shows one. The values that carry secrets (client
registrations, token sets) are defined in :mod:`core.credentials` and answered here. ``to_dict``/``from_dict`` give the
JSON form used by storage; ``from_dict`` ignores unknown keys so an older
build can read a newer file without crashing.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .known_fields import known_fields

if TYPE_CHECKING:
    # Defined in core/credentials.py, answered here on first use (see __getattr__ below).
    from .credentials import ClientRegistration, CredentialKey, RegistrationMethod, TokenSet

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
        d = known_fields(cls, data)
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
        d = known_fields(cls, data)
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
        d = known_fields(cls, data)
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
        d = known_fields(cls, data)
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


#: The values that carry secrets live in core/credentials.py: the window's first frame
#: (gui/entry.py's PRELOAD) reads the servers and their discovery, never a secret, and
#: each dataclass costs about a millisecond to create. Still importable from here.
_CREDENTIALS = frozenset({"ClientRegistration", "CredentialKey", "RegistrationMethod", "TokenSet"})


def __getattr__(name: str) -> Any:
    if name not in _CREDENTIALS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(".credentials", __package__), name)
    globals()[name] = value
    return value
