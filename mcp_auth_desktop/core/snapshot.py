"""What the settings document says about each server, parsed: no vault, no secret.

The non-secret half of :mod:`core.registry` (which reads and writes both stores),
on its own because the window's first frame is built from it alone
(``gui/preview.py``, in gui/entry.py's PRELOAD): it needs neither
the vault's entry names (``hashlib``), nor the settings seal, nor the dataclasses
of the secret values (tokens, pending revocations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_auth_desktop.core.models import Discovery, ServerConfig
from mcp_auth_desktop.core.server_status import ServerStatus

if TYPE_CHECKING:
    from mcp_auth_desktop.core.models import ClientRegistration
    from mcp_auth_desktop.core.ports import JsonObject

__all__ = [
    "DISCOVERY",
    "REGISTRATIONS",
    "SERVERS",
    "STATUS",
    "PublicRegistration",
    "RegistrySnapshot",
    "snapshot_from_document",
]

SERVERS = "servers"
DISCOVERY = "discovery"
REGISTRATIONS = "registrations_public"
STATUS = "server_status"


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PublicRegistration:
    """The non-secret facts of a server's client registration (``registrations_public``).

    Shown in the window and used to find the server's tokens; the registration
    itself, with its secrets, stays in the vault.
    """

    client_id: str
    issuer: str | None = None
    method: str | None = None
    token_endpoint_auth_method: str | None = None
    redirect_uris: tuple[str, ...] = ()
    registered_at: float | None = None
    has_client_secret: bool = False
    deletable: bool = False

    @classmethod
    def of(cls, reg: ClientRegistration) -> PublicRegistration:
        return cls(
            client_id=reg.client_id,
            issuer=reg.issuer,
            method=reg.method,
            token_endpoint_auth_method=reg.token_endpoint_auth_method,
            redirect_uris=reg.redirect_uris,
            registered_at=reg.registered_at,
            has_client_secret=reg.client_secret is not None,
            deletable=reg.deletable,  # what removal acts on (RFC 7592: our own DCR only)
        )

    @classmethod
    def from_json(cls, raw: object) -> PublicRegistration | None:
        """One stored entry; None when it names no client (a hand edit, a damaged file)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("client_id"), str):
            return None
        uris = raw.get("redirect_uris")
        at = raw.get("registered_at")
        return cls(
            client_id=raw["client_id"],
            issuer=_opt_str(raw.get("issuer")),
            method=_opt_str(raw.get("method")),
            token_endpoint_auth_method=_opt_str(raw.get("token_endpoint_auth_method")),
            redirect_uris=tuple(u for u in uris if isinstance(u, str)) if isinstance(uris, list) else (),
            registered_at=float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None,
            has_client_secret=raw.get("has_client_secret") is True,
            deletable=raw.get("deletable") is True,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "method": self.method,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "redirect_uris": list(self.redirect_uris),
            "registered_at": self.registered_at,
            "has_client_secret": self.has_client_secret,
            "deletable": self.deletable,
        }


@dataclass
class RegistrySnapshot:
    """Everything non-secret, as read from the settings document."""

    servers: list[ServerConfig] = field(default_factory=list)
    discovery: dict[str, Discovery] = field(default_factory=dict)
    registrations: dict[str, PublicRegistration] = field(default_factory=dict)
    status: dict[str, ServerStatus] = field(default_factory=dict)


def _section(doc: JsonObject, key: str, kind: type[list[Any]] | type[dict[str, Any]]) -> Any:
    """One section of the document, or an empty one when it has the wrong shape.

    The settings file is human-editable; a hand edit that turns a section into
    the wrong JSON type must cost that section, not stop the manager.
    """
    value = doc.get(key)
    return value if isinstance(value, kind) else kind()


def snapshot_from_document(doc: JsonObject) -> RegistrySnapshot:
    """Parse the settings document; entries that do not parse are skipped, not fatal."""
    snap = RegistrySnapshot()
    for raw in _section(doc, SERVERS, list):
        try:
            snap.servers.append(ServerConfig.from_dict(raw))
        except (TypeError, KeyError, ValueError, AttributeError):
            continue
    ids = {s.id for s in snap.servers}
    for sid, raw in _section(doc, DISCOVERY, dict).items():
        if sid in ids:
            try:
                snap.discovery[sid] = Discovery.from_dict(raw)
            except (TypeError, KeyError, ValueError, AttributeError):
                continue
    for sid, raw in _section(doc, REGISTRATIONS, dict).items():
        public = PublicRegistration.from_json(raw) if sid in ids else None
        if public is not None:
            snap.registrations[sid] = public
    for sid, raw in _section(doc, STATUS, dict).items():
        if sid in ids and isinstance(raw, dict):
            snap.status[sid] = ServerStatus.from_json(raw)
    return snap
