"""What all servers together need from the user: the tray's icon and tooltip.

A pure function of the server snapshots and the time, so the GUI only shows
it and tests can state every rule without Qt. The rules:

* **error**: something needs the user now: a server in the error state, or a
  server whose access token has expired while its refreshes keep failing
  (calls to it fail until someone acts).
* **attention**: a server needs a sign-in (never signed in, grant gone, signed
  out), its access token has expired, it failed to refresh
  ``REPEATED_FAILURES`` times in a row, or a revocation at its server is
  still pending.
* **ok**: every server is fine now (an empty list is fine).

While the vault is still locked (LOCKED: the keyring's unlock prompt, a passphrase)
nothing about a server is known: each is an attention finding saying what the app
waits for, and the headline says the tokens are locked, never "all fine".

Each finding names the server, so the tooltip can say which one and why.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass

from mcp_auth_desktop.core.state import ServerState, ServerView

__all__ = ["Health", "Finding", "HealthSummary", "REPEATED_FAILURES", "server_health", "summarise"]

#: Refresh failures in a row after which a server is worth the user's attention:
#: one failure is retried quietly (a network blip), a run of them is not a blip.
REPEATED_FAILURES = 3


class Health(enum.Enum):
    OK = "ok"
    ATTENTION = "attention"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {Health.OK: 0, Health.ATTENTION: 1, Health.ERROR: 2}[self]


@dataclass(frozen=True)
class Finding:
    """One reason a server is not fine, in words."""

    server: str
    health: Health
    text: str


@dataclass(frozen=True)
class HealthSummary:
    health: Health
    findings: tuple[Finding, ...]
    total: int
    #: What the app waits for while the vault is locked (None once it is open).
    locked: str | None = None

    @property
    def headline(self) -> str:
        if self.locked is not None:
            return f"your tokens are locked: {self.locked}"
        if self.health is Health.OK:
            return "all servers are fine" if self.total else "no servers yet"
        worst = list(dict.fromkeys(f.server for f in self.findings if f.health is self.health))
        verb = "needs" if len(worst) == 1 else "need"
        what = "you now" if self.health is Health.ERROR else "attention"
        return f"{_names(worst)} {verb} {what}"

    def lines(self) -> list[str]:
        return [f"{f.server}: {f.text}" for f in self.findings]


def _names(names: Iterable[str]) -> str:
    unique = list(dict.fromkeys(names))
    if len(unique) <= 3:
        return ", ".join(unique)
    return f"{', '.join(unique[:3])} and {len(unique) - 3} more"


def _clock_text(at: float, now: float) -> str:
    """A local time, with the date when it is not today."""
    stamp = time.localtime(at)
    if time.strftime("%Y-%m-%d", stamp) == time.strftime("%Y-%m-%d", time.localtime(now)):
        return time.strftime("%H:%M", stamp)
    return time.strftime("%Y-%m-%d %H:%M", stamp)


def server_health(view: ServerView, now: float) -> list[Finding]:
    """Every reason one server is not fine now (empty when it is)."""
    name, found = view.name, []
    state = view.state
    expired = view.expires_at is not None and view.expires_at <= now
    failures = view.refresh_failures
    failing = failures >= REPEATED_FAILURES
    if state is ServerState.LOCKED:
        return [Finding(name, Health.ATTENTION, view.locked_because or "tokens locked")]
    if state is ServerState.ERROR:
        found.append(Finding(name, Health.ERROR, view.last_error or "has a problem"))
    elif state is ServerState.NEEDS_SIGN_IN:
        found.append(Finding(name, Health.ATTENTION, "not signed in yet"))
    elif state is ServerState.SIGN_IN_NEEDED:
        found.append(Finding(name, Health.ATTENTION, _sign_in_again(view)))
    elif state is ServerState.REVOKED:
        found.append(Finding(name, Health.ATTENTION, "signed out"))
    elif state.signed_in:
        if expired and failing:
            found.append(Finding(name, Health.ERROR,
                                 "the access token has expired and " + _failing_text(view, now)))
        elif expired:
            found.append(Finding(name, Health.ATTENTION, "the access token has expired"))
        elif failing:
            found.append(Finding(name, Health.ATTENTION, _failing_text(view, now)))
    if view.pending_revocation:
        found.append(Finding(name, Health.ATTENTION, "a revocation at the server is still pending"))
    return found


def _sign_in_again(view: ServerView) -> str:
    """The grant has ended; the cause when it adds something (no name or advice said twice)."""
    reason = (view.last_error or "").strip().rstrip(".")
    if not reason or view.name in reason or "sign in again" in reason.lower():
        return "the sign-in has ended: sign in again"
    return f"the sign-in has ended ({reason}): sign in again"


def _failing_text(view: ServerView, now: float) -> str:
    text = f"failed to refresh {view.refresh_failures} times in a row"
    if view.failing_since is not None:
        text += f" since {_clock_text(view.failing_since, now)}"
    if view.last_error:
        text += f" ({view.last_error.rstrip('.')})"
    return text


def summarise(views: Iterable[ServerView], now: float) -> HealthSummary:
    """The worst health over all servers, with every finding (worst first, then by name)."""
    views = list(views)
    findings = [f for v in views for f in server_health(v, now)]
    findings.sort(key=lambda f: (-f.health.rank, f.server.lower()))
    health = findings[0].health if findings else Health.OK
    locked = next((v.locked_because or "tokens locked" for v in views
                   if v.state is ServerState.LOCKED), None)
    return HealthSummary(health=health, findings=tuple(findings), total=len(views), locked=locked)
