"""Turning manager results into text and JSON for ``mcp-auth`` (no secrets, ever).

The one exception is ``mcp-auth token``, whose whole purpose is to print the
access token; it does that itself and nothing here touches a token.

Server-derived text (names, URLs, client ids, scopes, error text) never
reaches the terminal raw (issue 15 #5): each value in the text layouts goes
through :func:`terminal_safe` (newlines included, so a value cannot forge a
line), and :func:`install_safe_output` wraps stdout and stderr so every other
``print`` is escaped too (JSON stays valid: the escapes are JSON escapes).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import time
from typing import Any

from mcp_auth_desktop.core.account_text import account_cell, account_text
from mcp_auth_desktop.core.mcp.display import description_fields
from mcp_auth_desktop.core.safetext import SafeFormatter, SafeTextStream, terminal_safe
from mcp_auth_desktop.core.state import RevocationReport, ServerView

__all__ = [
    "view_to_dict",
    "report_to_dict",
    "format_when",
    "format_list",
    "format_status",
    "format_overview",
    "state_name",
    "account_text",
    "dumps",
    "install_safe_output",
    "log_formatter",
    "terminal_safe",
]


def install_safe_output() -> None:
    """Route ``sys.stdout`` and ``sys.stderr`` through :func:`terminal_safe` (idempotent)."""
    if not isinstance(sys.stdout, SafeTextStream):
        sys.stdout = SafeTextStream(sys.stdout)
    if not isinstance(sys.stderr, SafeTextStream):
        sys.stderr = SafeTextStream(sys.stderr)


def log_formatter(fmt: str) -> logging.Formatter:
    """The formatter of every CLI log line: messages escaped by :func:`terminal_safe`."""
    return SafeFormatter(fmt)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False)


def view_to_dict(view: ServerView, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    d = dataclasses.asdict(view)
    # Scripts compare names, people read labels (issue 16): "needs_sign_in" / "needs sign-in".
    d["state"] = state_name(view)
    d["state_label"] = view.state.value
    for k, v in d.items():
        if isinstance(v, tuple):
            d[k] = list(v)
    d["expires_in"] = None if view.expires_at is None else round(view.expires_at - now, 1)
    return d


def state_name(view: ServerView) -> str:
    """The machine-readable state name (the enum member's name, lower case)."""
    return view.state.name.lower()


def _account_cell(view: ServerView) -> str:
    # "unknown" only where there is a sign-in whose account nobody told us; "-" with none.
    return account_cell(view)


def report_to_dict(report: RevocationReport) -> dict[str, Any]:
    d = dataclasses.asdict(report)
    d["errors"] = list(report.errors)
    d["summary"] = report.summary()
    return d


def _duration(seconds: float) -> str:
    s = abs(int(seconds))
    if s < 90:
        text = f"{s} s"
    elif s < 90 * 60:
        text = f"{round(s / 60)} min"
    elif s < 48 * 3600:
        text = f"{s / 3600:.1f} h"
    else:
        text = f"{s / 86400:.1f} days"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def format_when(at: float | None, now: float | None = None) -> str:
    if at is None:
        return "-"
    now = time.time() if now is None else now
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
    return f"{stamp} ({_duration(at - now)})"


def format_list(views: list[ServerView], storage: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    if not views:
        body = "No servers yet: add one with `mcp-auth add URL`."
    else:
        rows = [("NAME", "STATE", "TOKEN EXPIRES", "URL")]
        for v in views:
            expires = "-" if v.expires_at is None else _duration(v.expires_at - now)
            state = v.state.value + (" (revocation pending)" if v.pending_revocation else "")
            rows.append((terminal_safe(v.name), state, expires, terminal_safe(v.url)))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        body = "\n".join(
            f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows
        )
    return f"{body}\n\nSecrets: {storage}"


def format_status(view: ServerView, storage: str, now: float | None = None) -> str:
    lines = [
        ("Name", view.name),
        ("Id", view.id),
        ("URL", view.url),
        ("State", view.state.value),
        ("Account", _account_cell(view)),
        ("Authorization server", view.issuer or "-"),
        ("Resource", view.resource or "-"),
        ("Client", f"{view.client_id or '-'} ({view.registration_method or 'not registered'})"),
        ("Redirect URI", view.redirect_uri or "-"),
        ("Requested scopes", " ".join(view.requested_scopes) or "-"),
        ("Granted scopes", " ".join(view.granted_scopes) or "-"),
        ("Token expires", format_when(view.expires_at, now)),
        ("Refresh token", "yes" if view.has_refresh_token else "no"),
        (
            "Last refresh",
            f"{format_when(view.last_refresh_at, now)} {view.last_refresh_result or ''}".strip(),
        ),
        (
            "Revocation",
            "-"
            if view.revocation_supported is None
            else (
                "supported" if view.revocation_supported else "not offered (removal is local only)"
            ),
        ),
        ("Revocation pending", "yes" if view.pending_revocation else "no"),
        ("Last error", view.last_error or "-"),
        ("Secrets", storage),
    ]
    said = description_fields(view.mcp_server) if view.mcp_server else [("Protocol", "not known yet (call it once)")]
    lines += [("MCP server" if k == "Server" else k, v) for k, v in said]
    width = max(len(k) for k, _ in lines)
    # Every value escaped whole: most of them came from a server.
    return "\n".join(f"{k + ':':<{width + 1}} {terminal_safe(v)}" for k, v in lines)


def format_overview(views: list[ServerView], storage: str, now: float | None = None) -> str:
    """``mcp-auth status`` without a name: one block per server, the facts people ask about."""
    now = time.time() if now is None else now
    if not views:
        return f"No servers yet: add one with `mcp-auth add URL`.\n\nSecrets: {storage}"
    blocks = []
    for v in views:
        state = v.state.value + (" (revocation pending)" if v.pending_revocation else "")
        last_refresh = f"{format_when(v.last_refresh_at, now)} {v.last_refresh_result or ''}".strip()
        lines = [
            (terminal_safe(v.name), ""),
            ("  State", state),
            ("  Account", _account_cell(v)),
            ("  Token expires", format_when(v.expires_at, now)),
            ("  Last refresh", last_refresh),
            ("  Last error", v.last_error or "-"),
        ]
        width = max(len(k) for k, _ in lines[1:])
        text = [lines[0][0]] + [f"{k + ':':<{width + 1}} {terminal_safe(val)}" for k, val in lines[1:]]
        blocks.append("\n".join(text))
    return "\n\n".join(blocks) + f"\n\nSecrets: {storage}"
