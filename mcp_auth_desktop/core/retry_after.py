"""``Retry-After`` (RFC 9110 §10.2.3) read into seconds to wait, capped.

Apart from :mod:`.http` (which re-exports it) because the OAuth error parsing
(``oauth/responses.py``) needs it while the manager loads, and :mod:`.http` imports
httpx, which the desktop app loads only with its first request (issue 17).
"""

from __future__ import annotations

import math
import time

__all__ = ["RETRY_AFTER_CAP", "parse_retry_after"]

RETRY_AFTER_CAP = 300.0


def parse_retry_after(
    value: str | None, *, now: float | None = None, cap: float = RETRY_AFTER_CAP
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Capped at ``cap`` so a hostile ``10^9`` cannot park a server forever;
    garbage or negative values give ``None`` (the caller's own backoff applies).
    """
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    if v.isascii() and v.isdigit():
        return min(float(int(v[:12])), cap)
    import email.utils  # with its email package: only for a date, not while the app starts

    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(delta):
        return None
    return min(max(delta, 0.0), cap)
