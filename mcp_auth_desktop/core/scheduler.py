"""Refresh timing: when to refresh, how long to back off, and clock-jump detection.

Pure functions and one small stateful detector; the manager owns the loop.

* Refresh ahead of expiry by ``max(60 s, 10 % of the lifetime)``, pulled a
  little earlier by a random jitter so many servers issued together do not
  all refresh in the same instant. For lifetimes under two minutes the margin
  is capped at half the lifetime, otherwise a fresh token would already be
  "due" and the scheduler would spin.
* Transient failures back off exponentially with jitter, capped, and honour
  ``Retry-After`` (itself capped, because a hostile or broken server may send
  10^9).
* Expiry is absolute wall-clock time (receipt time + ``expires_in``), but the
  manager's timers sleep on the monotonic clock. After a suspend or a manual
  clock change the two disagree; :class:`ClockJumpDetector` notices and the
  manager re-evaluates every schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "MIN_MARGIN",
    "MARGIN_FRACTION",
    "MAX_JITTER",
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "RETRY_AFTER_CAP",
    "refresh_margin",
    "refresh_due_at",
    "backoff_delay",
    "ClockJumpDetector",
]

MIN_MARGIN = 60.0
MARGIN_FRACTION = 0.10
#: Jitter moves a refresh earlier by up to this share of the margin…
JITTER_FRACTION = 0.25
#: …and never by more than this many seconds.
MAX_JITTER = 30.0
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
RETRY_AFTER_CAP = 3600.0


def refresh_margin(lifetime: float) -> float:
    """Seconds before expiry at which a token of ``lifetime`` seconds is refreshed."""
    if lifetime <= 0:
        return 0.0
    margin = max(MIN_MARGIN, MARGIN_FRACTION * lifetime)
    return min(margin, lifetime / 2.0)


def refresh_due_at(
    issued_at: float, expires_at: float | None, *, rng: random.Random | None = None
) -> float | None:
    """Wall-clock time at which to refresh, or None when the expiry is unknown.

    Tokens without ``expires_in`` are refreshed only on demand (a 401), since
    any guess would either waste refreshes or be too late.
    """
    if expires_at is None:
        return None
    lifetime = max(0.0, expires_at - issued_at) if issued_at > 0 else 0.0
    if lifetime <= 0:
        # Unknown issue time: fall back to the fixed minimum margin.
        return expires_at - MIN_MARGIN
    margin = refresh_margin(lifetime)
    jitter_span = min(MAX_JITTER, JITTER_FRACTION * margin)
    jitter = (rng or random).uniform(0.0, jitter_span) if jitter_span > 0 else 0.0
    return expires_at - margin - jitter


def backoff_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
) -> float:
    """Delay before retry number ``attempt`` (1 for the first retry).

    "Equal jitter": half the exponential step is fixed, half random, so
    retries spread out but never collapse to zero. A server's ``Retry-After``
    wins when it asks for longer, within :data:`RETRY_AFTER_CAP`; negative or
    absurd values are clamped rather than trusted.
    """
    step = min(cap, base * (2.0 ** max(0, attempt - 1)))
    delay = step / 2.0 + (rng or random).uniform(0.0, step / 2.0)
    if retry_after is not None and retry_after == retry_after:  # NaN check
        delay = max(delay, min(max(0.0, retry_after), RETRY_AFTER_CAP))
    return delay


@dataclass
class ClockJumpDetector:
    """Notices when wall-clock time and monotonic time drift apart.

    Between two observations both clocks should advance by the same amount.
    A suspend (monotonic pauses on Linux while the wall clock runs on), an NTP
    step or a manual change makes them differ; anything beyond ``threshold``
    seconds is reported as a jump.
    """

    threshold: float = 30.0
    _last_wall: float | None = None
    _last_mono: float | None = None

    def observe(self, wall: float, mono: float) -> float | None:
        """Record a sample; returns the jump in seconds (signed) or None."""
        jump: float | None = None
        if self._last_wall is not None and self._last_mono is not None:
            drift = (wall - self._last_wall) - (mono - self._last_mono)
            if abs(drift) > self.threshold:
                jump = drift
        self._last_wall, self._last_mono = wall, mono
        return jump
