"""HTML pages (consent, error) rendered from mock_server/templates with every value escaped."""

from __future__ import annotations

import html
import secrets
import string
from pathlib import Path

from starlette.responses import HTMLResponse


def page_headers(
    nonce: str, form_targets: tuple[str, ...] = (), referrer_policy: str = "no-referrer"
) -> dict[str, str]:
    """Headers every HTML page of the AS sends: no framing, no caching, no referrer, no script.

    The consent page uses "same-origin" instead of "no-referrer": with no-referrer Chromium
    sends ``Origin: null`` on the form POST, and the POST handler insists on our own Origin.
    """
    form_action = " ".join(("'self'", *form_targets))
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; form-action {form_action}; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": referrer_policy,
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }


def render(templates_dir: Path, name: str, values: dict[str, str], raw: dict[str, str] | None = None) -> str:
    """Substitute `values` (HTML-escaped) and `raw` (already-safe HTML fragments)."""
    # Every page's common head (charset, viewport, the shared style under the page's nonce).
    head = _fill(templates_dir, "_head.html", {"nonce": values.get("nonce", "")})
    return _fill(templates_dir, name, values, {"page_head": head, **(raw or {})})


def decision_form(
    templates_dir: Path, *, scope: str, form_action: str, request_field: str, request_id: str, csrf_token: str
) -> str:
    """What both consent pages (authorization code, device code) end with: the requested
    scopes, then Approve / Deny posting ``request_field`` (which request) and the CSRF token."""
    items = "\n".join(f"<li>{html.escape(s)}</li>" for s in scope.split())
    values = {"form_action": form_action, "request_field": request_field, "request_id": request_id,
              "csrf_token": csrf_token}
    # The page puts it on a line of its own: no second line break.
    return _fill(templates_dir, "_decision.html", values, {"scope_items": items}).rstrip("\n")


def _fill(templates_dir: Path, name: str, values: dict[str, str], raw: dict[str, str] | None = None) -> str:
    text = (templates_dir / name).read_text(encoding="utf-8")
    mapping = {k: html.escape(v, quote=True) for k, v in values.items()}
    mapping.update(raw or {})
    return string.Template(text).substitute(mapping)


def error_page(templates_dir: Path, title: str, message: str, status: int = 400) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    body = render(templates_dir, "mock_error.html", {"title": title, "message": message, "nonce": nonce})
    return HTMLResponse(body, status_code=status, headers=page_headers(nonce))
