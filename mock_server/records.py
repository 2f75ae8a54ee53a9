"""The mock AS's stored records (what ``Store`` reads back and takes to insert)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClientRecord:
    client_id: str
    secret_hash: str | None
    metadata: dict[str, Any]
    source: str  # "dcr", "static" or "cimd"
    rat_hash: str | None
    created_at: float

    @property
    def auth_method(self) -> str:
        return str(self.metadata.get("token_endpoint_auth_method", "none"))

    @property
    def redirect_uris(self) -> list[str]:
        return [str(u) for u in self.metadata.get("redirect_uris", [])]

    @property
    def name(self) -> str:
        return str(self.metadata.get("client_name") or self.client_id)


@dataclass(frozen=True)
class CodeRecord:
    code_hash: str
    client_id: str
    redirect_uri: str
    resource: str
    scope: str
    challenge: str
    subject: str
    created_at: float
    consumed_at: float | None
    grant_id: str | None


@dataclass(frozen=True)
class TokenRecord:
    jti: str
    kind: str  # "access" or "refresh"
    grant_id: str
    client_id: str
    subject: str
    scope: str
    resource: str
    issued_at: float
    expires_at: float
    revoked_at: float | None
    used_at: float | None
    parent_jti: str | None
    grant_revoked_at: float | None

    @property
    def active_flag(self) -> bool:
        return self.revoked_at is None and self.grant_revoked_at is None


@dataclass(frozen=True)
class NewToken:
    """A token to insert: its plaintext never reaches the database, only `token_hash`."""

    jti: str
    kind: str
    token_hash: str
    scope: str
    resource: str
    issued_at: float
    expires_at: float
    parent_jti: str | None = None
