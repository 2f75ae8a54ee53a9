"""The HTTP side of the loopback listener: request-head parsing and the pages it answers with.

Split from :mod:`.loopback` so each part stays small enough to audit. Nothing
here does I/O except reading the page template once (on first use).
"""

from __future__ import annotations

import functools
import html
import string

from mcp_auth_desktop.core.errors import McpAuthError

__all__ = ["APP_NAME", "SECURITY_HEADERS", "REASONS", "BadRequest", "NOT_ACCEPTED", "parse_head", "render_page"]

APP_NAME = "MCP Auth Desktop"

#: Sent with every response of the listener.
SECURITY_HEADERS: dict[str, str] = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
}

REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}

_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

_FALLBACK_TEMPLATE = (
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>$title</title>"
    "</head><body><main class=\"$kind\"><h1>$heading</h1><p>$message</p>"
    "<p>You can close this tab and return to $app.</p></main></body></html>"
)


@functools.lru_cache(maxsize=1)
def _template() -> string.Template:
    # Imported here so the core does not touch the file system at import time.
    from mcp_auth_desktop.resources_path import resource_path

    try:
        text = resource_path("templates", "callback.html").read_text(encoding="utf-8")
    except OSError:
        text = _FALLBACK_TEMPLATE
    return string.Template(text)


def render_page(kind: str, heading: str, message: str) -> str:
    """The callback page; every substituted value is HTML-escaped."""
    values = {
        "kind": kind if kind in ("ok", "error", "info") else "info",
        "title": heading,
        "heading": heading,
        "message": message,
        "app": APP_NAME,
    }
    return _template().safe_substitute({k: html.escape(v, quote=True) for k, v in values.items()})


class BadRequest(Exception):
    """A refused request; ``ends`` (when set) also ends the pending sign-in with that error."""

    def __init__(self, status: int, heading: str, message: str, ends: McpAuthError | None = None) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.message = message
        self.ends = ends


NOT_ACCEPTED = (
    "This address only accepts the sign-in redirect from your browser. "
    "No sign-in was changed."
)


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Request line and headers of an HTTP/1.x request head -> (method, target, headers)."""
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest(400, "Bad request", NOT_ACCEPTED) from None
    lines = text[:-4].split("\r\n") if text.endswith("\r\n\r\n") else []
    if not lines:
        raise BadRequest(400, "Bad request", NOT_ACCEPTED)
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(400, "Bad request", NOT_ACCEPTED)
    method, target, _version = parts
    if not method or not set(method) <= _TCHARS:
        raise BadRequest(400, "Bad request", NOT_ACCEPTED)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or not set(name) <= _TCHARS:
            # Also refuses obs-fold (a line starting with whitespace).
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        key = name.lower()
        if key in headers and key in ("host", "content-length", "transfer-encoding", "origin"):
            raise BadRequest(400, "Bad request", NOT_ACCEPTED)
        headers.setdefault(key, value.strip(" \t"))
    return method, target, headers
