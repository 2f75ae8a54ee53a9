"""Scope selection (MCP "Scope Selection Strategy"), the step-up union, the ``scope`` parameter."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigurationError, sanitize_server_text
from ..metadata import SCOPE_TOKEN_RE

__all__ = ["scope_param", "select_scopes", "union_scopes"]


def union_scopes(*groups: Sequence[str] | None) -> tuple[str, ...]:
    """Order-preserving union (step-up: previous scopes plus the challenged ones)."""
    out: list[str] = []
    for group in groups:
        for s in group or ():
            if s and s not in out:
                out.append(s)
    return tuple(out)


def select_scopes(
    challenge_scopes: Sequence[str] | None,
    prm_scopes_supported: Sequence[str] | None,
    as_scopes_supported: Sequence[str] | None,
    configured: Sequence[str] = (),
    previous: Sequence[str] = (),
) -> tuple[str, ...]:
    """Scopes for an authorization request.

    The challenge's ``scope`` wins, else scopes the user configured, else
    all of the PRM's ``scopes_supported``, else none (``scope`` omitted).
    ``previous`` (already granted) is added on step-up. ``offline_access``
    is requested only when the AS lists it, and dropped otherwise.
    """
    if challenge_scopes:
        base = union_scopes(previous, challenge_scopes)
    elif configured:
        base = union_scopes(previous, configured)
    elif prm_scopes_supported:
        base = union_scopes(previous, prm_scopes_supported)
    else:
        base = union_scopes(previous)
    as_lists_offline = bool(as_scopes_supported) and "offline_access" in (as_scopes_supported or ())
    base = tuple(s for s in base if s != "offline_access")
    if base and as_lists_offline:
        base = (*base, "offline_access")
    return base


def scope_param(scopes: Sequence[str]) -> str:
    """The space-separated ``scope`` value; every scope must be an RFC 6749 §3.3 scope token."""
    for s in scopes:
        if not SCOPE_TOKEN_RE.match(s):
            raise ConfigurationError(f"The scope {sanitize_server_text(s, 60)!r} is not a valid scope token.")
    return " ".join(scopes)
