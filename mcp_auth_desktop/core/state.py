"""Per-server state machine; the events the manager publishes are in :mod:`core.events`.

The GUI and the CLI observe these; they never reach into the manager's
internals. Everything here is plain data, safe to show (no secrets).

States and the transitions the manager makes::

    NEW ──discover──▶ DISCOVERING ──ok──▶ NEEDS_SIGN_IN ──sign_in──▶ SIGNING_IN
                          │                                            │ ok
                          └──fail──▶ ERROR                             ▼
    SIGN_IN_NEEDED ◀─invalid_grant── REFRESHING ◀──timer/refresh── SIGNED_IN
          │                              │ transient: back to SIGNED_IN (retry later)
          └────sign_in─────▶ SIGNING_IN  │
    SIGNED_IN ──revoke──▶ REVOKED ──sign_in──▶ SIGNING_IN

NEEDS_SIGN_IN means "never signed in"; SIGN_IN_NEEDED means "was signed in,
the grant is gone" (the user is notified). LOCKED is never a manager state: it is
what the window shows before the vault is open (the keyring's unlock prompt, a
passphrase), when a server's real state cannot be known yet.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp_auth_desktop.core.mcp.era import ServerDescription

if TYPE_CHECKING:
    # Defined in core/revocation_text.py, answered here on first use (see __getattr__).
    from mcp_auth_desktop.core.revocation_text import RevocationReport

__all__ = [
    "ServerState",
    "ServerView",
    "ManagerEvent",
    "RevocationReport",
]


class ServerState(enum.Enum):
    NEW = "new"
    DISCOVERING = "discovering"
    NEEDS_SIGN_IN = "needs sign-in"
    SIGNING_IN = "signing in"
    SIGNED_IN = "signed in"
    REFRESHING = "refreshing"
    SIGN_IN_NEEDED = "sign-in needed"
    ERROR = "error"
    REVOKED = "revoked"
    #: The vault is not open yet: the real state is unknown (``ServerView.locked_because``).
    LOCKED = "locked"

    @property
    def needs_attention(self) -> bool:
        return self in (ServerState.SIGN_IN_NEEDED, ServerState.NEEDS_SIGN_IN)

    @property
    def is_error(self) -> bool:
        return self is ServerState.ERROR

    @property
    def signed_in(self) -> bool:
        """Tokens in hand: signed in, or refreshing them (they stay usable meanwhile)."""
        return self in (ServerState.SIGNED_IN, ServerState.REFRESHING)


@dataclass(frozen=True)
class ServerView:
    """A snapshot of one server for display. Contains no secret."""

    id: str
    name: str
    url: str
    state: ServerState
    issuer: str | None = None
    resource: str | None = None
    registration_method: str | None = None
    client_id: str | None = None
    redirect_uri: str | None = None
    requested_scopes: tuple[str, ...] = ()
    granted_scopes: tuple[str, ...] = ()
    expires_at: float | None = None
    has_refresh_token: bool = False
    last_refresh_at: float | None = None
    last_refresh_result: str | None = None
    last_error: str | None = None
    revocation_supported: bool | None = None
    #: Whether the authorization server offers the device grant (RFC 8628); None before discovery.
    device_grant_supported: bool | None = None
    pending_revocation: bool = False
    discovery_trail: tuple[str, ...] = ()
    #: The MCP protocol revision and what server/discover (or initialize) said, from the last call.
    mcp_server: ServerDescription | None = None
    #: Refreshes that failed in a row (0 after a success), and when the first of them failed.
    refresh_failures: int = 0
    failing_since: float | None = None
    #: The signed-in account (e-mail, username, name or subject; core/identity.py), or None
    #: when unknown or not signed in.
    account: str | None = None
    #: Where ``account`` came from: "id_token", "userinfo", "introspection", "access_token".
    account_source: str | None = None
    #: False when ``account`` was read from an access token nobody verified.
    account_verified: bool = False
    #: LOCKED only: what the app waits for before it can know the state, in a few words
    #: (e.g. "waiting for the keyring").
    locked_because: str | None = None


@dataclass(frozen=True)
class ManagerEvent:
    server_id: str
    at: float


#: Names defined elsewhere, answered here on first use: the first frame (gui/entry.py's
#: PRELOAD) needs this module but none of them, and each dataclass costs about a
#: millisecond to create. The events moved to core/events.py (import them from there:
#: it imports this module, so this one cannot name them for mypy, which types them Any
#: here); RevocationReport is core/revocation_text.py's.
_ELSEWHERE = {
    **dict.fromkeys(("StateChanged", "TokensRefreshed", "SignInNeeded", "RefreshFailed",
                     "ServerAdded", "ServerRemoved", "LogEvent", "ServerUpdated"),
                    "mcp_auth_desktop.core.events"),
    "RevocationReport": "mcp_auth_desktop.core.revocation_text",
}


def __getattr__(name: str) -> Any:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
