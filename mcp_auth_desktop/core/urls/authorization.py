"""The authorization URL handed to a browser, and the https-or-opted-in-loopback scheme rule.

The URL is opened without a shell anyway; :func:`check_authorization_url` is
the second wall (CVE-2025-6514 came from a ``javascript:``/metacharacter URL).
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult

from mcp_auth_desktop.core.errors import InsecureUrlError
from mcp_auth_desktop.core.urls.forms import split_url
from mcp_auth_desktop.core.urls.hosts import is_ambiguous_numeric, is_loopback_host

__all__ = ["check_authorization_url", "scheme_allowed"]

_MAX_AUTHORIZATION_URL = 16384
# RFC 3986 characters minus the ones a shell or a quoting bug could turn
# into something else ($ ( ) ' and the backtick, which is not in RFC 3986).
_AUTHZ_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?\[\]@!&*+,;=%]+$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def scheme_allowed(parts: SplitResult, allow_insecure_loopback: bool) -> bool:
    """https, or plain http to a loopback host when the server's options allow it."""
    if parts.scheme.lower() == "https":
        return True
    return allow_insecure_loopback and is_loopback_host(parts.hostname or "")


def check_authorization_url(url: str, *, allow_insecure_loopback: bool = False) -> str:
    """Refuse anything we would not hand to a browser: only http(s), no shell-active characters.

    The URL is opened without a shell anyway; this is the second wall
    (CVE-2025-6514 came from a ``javascript:``/metacharacter URL).
    """
    if not isinstance(url, str) or not url:
        raise InsecureUrlError("The authorization URL is missing.")
    if len(url) > _MAX_AUTHORIZATION_URL:
        raise InsecureUrlError("The authorization URL is too long.")
    if not _AUTHZ_URL_CHARS.match(url) or _BAD_PERCENT.search(url):
        raise InsecureUrlError(
            "The authorization URL contains characters that are not allowed in a URL."
        )
    parts = split_url(url, "authorization")
    if parts.fragment or "#" in url:
        raise InsecureUrlError("The authorization URL must not contain a fragment.")
    if is_ambiguous_numeric(parts.hostname or ""):
        raise InsecureUrlError("The authorization URL uses an ambiguous numeric host.")
    if not scheme_allowed(parts, allow_insecure_loopback):
        raise InsecureUrlError(
            "The authorization URL must use https:// (plain http is only allowed to "
            "a loopback address when enabled for this server)."
        )
    return url
