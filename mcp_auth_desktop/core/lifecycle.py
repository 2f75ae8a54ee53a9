"""The allowed transitions of :class:`~mcp_auth_desktop.core.state.ServerState`.

The manager changes a server's state only through :func:`check_transition`,
so an impossible jump (say REVOKED straight to REFRESHING) is a bug that
fails loudly in tests instead of a confusing badge in the GUI.

Besides the arrows drawn in ``core/state.py`` the table allows the moves
another process can cause: the CLI signs in while the GUI shows "needs
sign-in" (-> SIGNED_IN), or removes the tokens while the GUI shows "signed
in" (-> NEEDS_SIGN_IN / SIGN_IN_NEEDED).
"""

from __future__ import annotations

from mcp_auth_desktop.core.errors import ManagerError
from mcp_auth_desktop.core.state import ServerState

__all__ = ["ALLOWED_TRANSITIONS", "can_transition", "check_transition", "IllegalTransitionError"]

S = ServerState

ALLOWED_TRANSITIONS: dict[ServerState, frozenset[ServerState]] = {
    # NEW is also the state of a record just loaded from storage, before what
    # storage holds says where it really is.
    S.NEW: frozenset(
        {
            S.DISCOVERING,
            S.NEEDS_SIGN_IN,
            S.SIGNING_IN,
            S.SIGNED_IN,
            S.SIGN_IN_NEEDED,
            S.REVOKED,
            S.ERROR,
        }
    ),
    # Re-discovery can happen in any state; it returns to where the server was.
    S.DISCOVERING: frozenset(
        {S.NEEDS_SIGN_IN, S.SIGNING_IN, S.SIGNED_IN, S.SIGN_IN_NEEDED, S.REVOKED, S.ERROR, S.NEW}
    ),
    S.NEEDS_SIGN_IN: frozenset(
        {S.DISCOVERING, S.SIGNING_IN, S.SIGNED_IN, S.SIGN_IN_NEEDED, S.ERROR}
    ),
    # A failed sign-in returns to the state it started from.
    S.SIGNING_IN: frozenset(
        {S.SIGNED_IN, S.NEEDS_SIGN_IN, S.SIGN_IN_NEEDED, S.REVOKED, S.ERROR, S.NEW}
    ),
    S.SIGNED_IN: frozenset(
        {
            S.REFRESHING,
            S.SIGNING_IN,  # step-up
            S.DISCOVERING,
            S.SIGN_IN_NEEDED,  # 401 after a refresh, or tokens deleted elsewhere
            S.NEEDS_SIGN_IN,
            S.REVOKED,
        }
    ),
    S.REFRESHING: frozenset({S.SIGNED_IN, S.SIGN_IN_NEEDED, S.ERROR, S.REVOKED}),
    S.SIGN_IN_NEEDED: frozenset({S.SIGNING_IN, S.DISCOVERING, S.SIGNED_IN, S.REVOKED}),
    # ERROR with tokens still held retries its refresh in the background.
    S.ERROR: frozenset(
        {S.DISCOVERING, S.SIGNING_IN, S.NEEDS_SIGN_IN, S.SIGNED_IN, S.REFRESHING, S.SIGN_IN_NEEDED}
    ),
    S.REVOKED: frozenset({S.SIGNING_IN, S.DISCOVERING, S.SIGNED_IN, S.NEEDS_SIGN_IN}),
    # Never a manager state (what the window shows before the vault is open): the
    # manager can neither enter nor leave it.
    S.LOCKED: frozenset(),
}


class IllegalTransitionError(ManagerError):
    """The manager tried a state change the state machine does not allow (a bug)."""


def can_transition(old: ServerState, new: ServerState) -> bool:
    return old is new or new in ALLOWED_TRANSITIONS[old]


def check_transition(old: ServerState, new: ServerState) -> None:
    if not can_transition(old, new):
        raise IllegalTransitionError(f"illegal server state change: {old.value} -> {new.value}")
