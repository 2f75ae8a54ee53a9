"""Vault entry names that more than one reader computes.

Kept apart from :mod:`.models` (dataclasses) so that the lean path of
``mcp-auth token`` can find a token entry without importing the data model.
"""

from __future__ import annotations

import hashlib

__all__ = ["token_entry_name"]


def token_entry_name(issuer: str, client_id: str, resource: str, profile: str = "default") -> str:
    """The vault entry holding the tokens for (issuer, client id, resource, profile); no secret."""
    raw = "\x1f".join((issuer, client_id, resource, profile))
    return "tokens/" + hashlib.sha256(raw.encode()).hexdigest()[:32]
