"""Revoke and Remove say exactly what happened at the server (core/revocation_text.py)."""

from __future__ import annotations

from mcp_auth_desktop.core.revocation_text import registration_skip_reason
from mcp_auth_desktop.core.state import RevocationReport as R


def test_each_outcome_in_words() -> None:
    cases = {
        R(supported=True, refresh_token_revoked=True, access_token_revoked=True):
            "Tokens revoked at the server.",
        R(supported=True, refresh_token_revoked=True):
            "Refresh token revoked at the server.",
        R(supported=False):
            "Revocation is not supported by this server: the tokens were deleted here only "
            "(local only) and stay valid at the server until they expire.",
        R(supported=True, had_tokens=False): "Nothing to revoke: not signed in.",
        R(supported=True, errors=("HTTP 503",), will_retry=True):
            "Revocation failed (HTTP 503): it will be retried in the background.",
        R(supported=True, errors=("refused",)): "Revocation failed (refused): it will not be retried.",
        R(supported=True, client_unknown=True, errors=("invalid_client",)):
            "The server no longer knows this app, so nothing could be revoked; "
            "the tokens were deleted here.",
        R(supported=True, refresh_token_revoked=True, access_token_revoked=True,
          registration_deleted=True):
            "Tokens revoked at the server; client registration deleted.",
        R(supported=True, refresh_token_revoked=True, access_token_revoked=True,
          registration_deleted=False):
            "Tokens revoked at the server; the client registration could not be deleted "
            "(the server refused or was unreachable).",
        R(supported=False, had_tokens=False, registration_skipped="no client registration was stored"):
            "Nothing to revoke: not signed in; client registration not deleted: "
            "no client registration was stored.",
    }
    for report, text in cases.items():
        assert report.summary() == text


def test_why_a_registration_is_not_deleted() -> None:
    assert registration_skip_reason(None, False) == "no client registration was stored"
    assert "metadata document" in registration_skip_reason("cimd", False)
    assert "registered in advance" in registration_skip_reason("preregistered", False)
    assert "no registration management (RFC 7592)" in registration_skip_reason("dcr", False)
