"""The events the manager publishes (see :mod:`core.state` for the states they report).

Kept apart from :mod:`core.state` because the window's first frame needs the
states and the views but none of the events: each of these dataclasses costs
about a millisecond to create (``dataclasses`` writes and compiles its methods),
and the first frame (``core.state`` is in gui/entry.py's PRELOAD) is shown before any
event can happen. :mod:`core.state` still answers these names, loading this module on
first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_auth_desktop.core.revocation_text import RevocationReport
from mcp_auth_desktop.core.state import ManagerEvent, ServerState

__all__ = [
    "ManagerEvent",
    "StateChanged",
    "TokensRefreshed",
    "SignInNeeded",
    "RefreshFailed",
    "ServerAdded",
    "ServerRemoved",
    "LogEvent",
    "ServerUpdated",
]


@dataclass(frozen=True)
class StateChanged(ManagerEvent):
    old: ServerState
    new: ServerState


@dataclass(frozen=True)
class TokensRefreshed(ManagerEvent):
    expires_at: float | None
    rotated: bool


@dataclass(frozen=True)
class SignInNeeded(ManagerEvent):
    reason: str


@dataclass(frozen=True)
class RefreshFailed(ManagerEvent):
    reason: str
    transient: bool
    retry_in: float | None


@dataclass(frozen=True)
class ServerAdded(ManagerEvent):
    name: str


@dataclass(frozen=True)
class ServerRemoved(ManagerEvent):
    name: str
    report: RevocationReport | None = None


@dataclass(frozen=True)
class ServerUpdated(ManagerEvent):
    """A server's snapshot changed without a state change: another process (the CLI, a
    bridge) refreshed, re-registered or edited it; observers re-read the view."""


@dataclass(frozen=True)
class LogEvent(ManagerEvent):
    level: str
    message: str
