"""A server's non-secret status: what every process must know about it beyond its settings.

Stored per server under ``server_status`` in the settings document (readable JSON,
shared by the app, the CLI and a bridge), held by the manager in each server's
record, read by the views, the settings preview and the bridge.

Why a frozen value and not a mutable record: the manager's copy is a copy of what
the document holds, and the two must not drift. Every change is therefore a
function from the old status to the new one (:data:`StatusChange`, usually one of
the transition methods below); the registry applies it to the status stored *now*
(under the settings lock, so fields another process wrote meanwhile survive) and
writes only the fields it changed, and the manager applies the same function to its
copy. Nothing mutates a status in place, so nobody holding one sees it change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field, replace

from mcp_auth_desktop.core.mcp.memory import STATUS_KEY as MCP_KEY
from mcp_auth_desktop.core.mcp.memory import McpMemory

__all__ = ["ServerStatus", "StatusChange", "apply_to_stored"]


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _opt_time(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _opt_scopes(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(v for v in value if isinstance(v, str))


@dataclass(frozen=True)
class ServerStatus:
    """What is known about a server beyond its settings; all fields optional in the document."""

    #: The last refresh or a refused token proved the grant unusable: sign in again.
    sign_in_needed: bool = False
    #: The user revoked access (tokens deleted here, revocation sent to the server).
    revoked: bool = False
    #: A revocation at the server failed and is being retried.
    pending_revocation: bool = False
    #: The authorization server forgot this app's registration: the next sign-in registers again.
    stale_client: bool = False
    #: Why the server needs attention (server text, sanitised where it is shown).
    last_error: str | None = None
    #: The scopes the last sign-in asked for; None before the first sign-in.
    requested_scopes: tuple[str, ...] | None = None
    #: The user changed the scopes since the last sign-in (core/manager/editing.py): the
    #: next sign-in asks for exactly those, not for them added to the old ones.
    scopes_edited: bool = False
    #: The last refresh by any process (core/refresh_record.py keeps the newer of two).
    last_refresh_at: float | None = None
    last_refresh_result: str | None = None
    #: The MCP protocol era and server description learned by the last call.
    mcp: McpMemory = field(default_factory=McpMemory)

    # -- the settings document ----------------------------------------------------------

    @classmethod
    def from_json(cls, raw: object) -> ServerStatus:
        """Parse one stored entry; a field of the wrong type (a hand edit) reads as unset."""
        if not isinstance(raw, dict):
            return cls()
        return cls(
            sign_in_needed=bool(raw.get("sign_in_needed")),
            revoked=bool(raw.get("revoked")),
            pending_revocation=bool(raw.get("pending_revocation")),
            stale_client=bool(raw.get("stale_client")),
            last_error=_opt_str(raw.get("last_error")),
            requested_scopes=_opt_scopes(raw.get("requested_scopes")),
            scopes_edited=bool(raw.get("scopes_edited")),
            last_refresh_at=_opt_time(raw.get("last_refresh_at")),
            last_refresh_result=_opt_str(raw.get("last_refresh_result")),
            mcp=McpMemory.from_json(raw.get(MCP_KEY)),
        )

    def stored_fields(self) -> dict[str, object]:
        """Each stored key with its JSON value; None means the key is absent."""
        return {
            "sign_in_needed": True if self.sign_in_needed else None,
            "revoked": True if self.revoked else None,
            "pending_revocation": True if self.pending_revocation else None,
            "stale_client": True if self.stale_client else None,
            "last_error": self.last_error,
            "requested_scopes": None if self.requested_scopes is None else list(self.requested_scopes),
            "scopes_edited": True if self.scopes_edited else None,
            "last_refresh_at": self.last_refresh_at,
            "last_refresh_result": self.last_refresh_result,
            MCP_KEY: self.mcp.to_json(),
        }

    # -- transitions (each a StatusChange when bound to its arguments) -------------------

    def needs_sign_in(self, reason: str) -> ServerStatus:
        return replace(self, sign_in_needed=True, last_error=reason)

    def with_last_error(self, reason: str | None) -> ServerStatus:
        """Discovery failed (``reason``) or succeeded (None)."""
        return replace(self, last_error=reason)

    def client_is_stale(self) -> ServerStatus:
        return replace(self, stale_client=True)

    def signed_in(self, scopes: Iterable[str]) -> ServerStatus:
        """A completed sign-in clears every earlier trouble and records what it asked for."""
        return replace(
            self, sign_in_needed=False, revoked=False, last_error=None, stale_client=False,
            requested_scopes=tuple(scopes), scopes_edited=False,
        )

    def scopes_changed(self) -> ServerStatus:
        """The user edited the scopes: the next sign-in asks for the new ones only."""
        return replace(self, scopes_edited=True)

    def revoked_here(self, *, pending: bool) -> ServerStatus:
        """Revoked; ``pending``: this revocation still has to reach the server.

        An earlier revocation that is still pending keeps the flag: only its completion
        (:meth:`revocation_completed`, once none is left) clears it.
        """
        return replace(
            self, revoked=True, sign_in_needed=False,
            pending_revocation=pending or self.pending_revocation,
        )

    def revocation_completed(self) -> ServerStatus:
        return replace(self, pending_revocation=False)

    def refreshed(self, at: float, result: str) -> ServerStatus:
        """One refresh attempt (``result``: ok, will retry, failed, sign-in needed)."""
        return replace(self, last_refresh_at=at, last_refresh_result=result)

    def remembering(self, mcp: McpMemory) -> ServerStatus:
        return replace(self, mcp=mcp)


#: A change of status: applied to the stored status and to the manager's copy alike.
StatusChange = Callable[[ServerStatus], ServerStatus]


def apply_to_stored(stored: MutableMapping[str, object], change: StatusChange) -> None:
    """Apply ``change`` to one stored entry in place, touching only the fields it changes.

    Keys this version does not know, and fields the change leaves alone (even ones
    that do not parse), are kept as they are.
    """
    old = ServerStatus.from_json(dict(stored))
    before, after = old.stored_fields(), change(old).stored_fields()
    for key, value in after.items():
        if value == before[key]:
            continue
        if value is None:
            stored.pop(key, None)
        else:
            stored[key] = value
