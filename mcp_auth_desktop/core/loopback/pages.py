"""What the loopback listener answers with: the page and the response around it.

Every page is rendered from ``resources/templates/callback.html`` with each
value HTML-escaped (never the code), and sent with ``no-store``,
``no-referrer``, ``nosniff`` and a CSP that allows no script, frame or fetch.
Nothing here does I/O except reading the page template once (on first use).
"""

from __future__ import annotations

import functools
import html
import string

__all__ = ["APP_NAME", "REASONS", "SECURITY_HEADERS", "encode_response", "render_page"]

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


def encode_response(status: int, body: str, *, location: str | None = None) -> bytes:
    """A complete HTTP/1.1 response carrying ``body`` (HTML); the connection closes after it."""
    data = body.encode("utf-8")
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}"]
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(len(data)),
        "Connection": "close",
        **SECURITY_HEADERS,
    }
    if status == 405:
        headers["Allow"] = "GET"
    if location is not None:
        headers["Location"] = location
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + data
