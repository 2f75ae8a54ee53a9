"""The signed-in account in words, the same in the CLI and the window.

Where the account came from says how far to trust it: an ID token or the
userinfo endpoint was checked, an access token's own claims were not.
"""

from __future__ import annotations

from mcp_auth_desktop.core.state import ServerView

__all__ = ["account_text", "account_cell", "account_short", "has_sign_in"]

_SOURCES = {
    "id_token": "from the ID token",
    "userinfo": "from the userinfo endpoint",
    "introspection": "from token introspection",
    "access_token": "from the access token, unverified",
}


def account_text(view: ServerView) -> str:
    """The signed-in account as shown to people: where it came from, and whether it is checked."""
    if view.account is None:
        return "unknown"
    source = _SOURCES.get(view.account_source or "", view.account_source or "")
    return f"{view.account} ({source})" if source else view.account


def has_sign_in(view: ServerView) -> bool:
    return view.account is not None or view.expires_at is not None or view.has_refresh_token


def account_cell(view: ServerView, *, none: str = "-") -> str:
    """``account_text`` where there is a sign-in ("unknown" when nobody told us), else ``none``."""
    return account_text(view) if has_sign_in(view) else none


def account_short(view: ServerView, *, none: str = "—") -> str:
    """For a narrow table cell: the account, marked when nobody verified it."""
    if not has_sign_in(view):
        return none
    if view.account is None:
        return "unknown"
    return view.account if view.account_verified else f"{view.account} (unverified)"
