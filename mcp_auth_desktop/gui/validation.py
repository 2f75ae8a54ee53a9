"""Pure checks behind the Add server dialog's validate-as-you-type.

The server URL rules are the core's (``core/urls/``): these checks only
word the core's decision for a user typing in the dialog.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp_auth_desktop.core.errors import McpAuthError
from mcp_auth_desktop.core.urls import is_loopback_host, normalize_server_url

__all__ = ["check_server_url", "is_loopback_literal", "parse_scopes", "parse_extra_params",
           "check_optional_url", "check_port"]


def is_loopback_literal(host: str) -> bool:
    """A host plain http may go to (with the opt-in): the core's loopback rule."""
    return is_loopback_host(host)


def check_server_url(text: str, *, allow_insecure_loopback: bool) -> str | None:
    """None when the URL can be tried, else a sentence saying what to change."""
    text = text.strip()
    if not text:
        return "Enter the MCP server's URL, e.g. https://mcp.example.com/mcp"
    if any(c.isspace() for c in text):
        return "The URL must not contain spaces."
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return "This is not a valid URL (check the port number and brackets)."
    if parts.scheme not in ("https", "http"):
        return "The URL must start with https://"
    host = parts.hostname or ""
    if not host:
        return "The URL needs a host name, e.g. https://mcp.example.com/mcp"
    if parts.username or parts.password:
        return "Leave user names and passwords out of the URL."
    if parts.fragment:
        return "Remove the #fragment from the URL."
    if port == 0:
        return "Port 0 is not a real port."
    if parts.scheme == "http":
        if not is_loopback_host(host):
            return "Use https:// — plain http is only allowed for localhost, 127.0.0.1 or [::1]."
        if not allow_insecure_loopback:
            return "Plain http to a local server needs “Allow http to localhost / 127.0.0.1 / ::1” (Advanced)."
    try:
        normalize_server_url(text, allow_insecure_loopback=allow_insecure_loopback)
    except McpAuthError as exc:
        return exc.user_message
    return None


def check_optional_url(text: str, what: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        return f"The {what} must be an https:// URL."
    return None


def check_port(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 1024 <= int(text) <= 65535:
        return "The callback port must be a number from 1024 to 65535."
    return None


def parse_scopes(text: str) -> tuple[str, ...]:
    """Space- or comma-separated scopes, duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for s in text.replace(",", " ").split():
        seen.setdefault(s, None)
    return tuple(seen)


def parse_extra_params(text: str) -> tuple[tuple[str, str], ...] | str:
    """``key=value`` pairs separated by newlines or ``&``; a message string on error."""
    out: list[tuple[str, str]] = []
    for chunk in text.replace("&", "\n").splitlines():
        chunk = chunk.strip()
        if not chunk:
            continue
        key, sep, value = chunk.partition("=")
        if not sep or not key.strip():
            return f"“{chunk}” should look like name=value."
        out.append((key.strip(), value.strip()))
    return tuple(out)
