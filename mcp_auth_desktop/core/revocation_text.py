"""What Revoke and Remove did at the server, in words (issue 16: no misleading messages).

Each part says exactly one thing that happened: tokens revoked (which), not
supported by this server, failed and will be retried, the server no longer
knows this app, and for removal whether the client registration was deleted,
or why it was not (skipped, refused).
"""

from __future__ import annotations

from typing import Protocol


class RevocationReport(Protocol):
    """The fields of ``core.state.RevocationReport`` read here (state imports this module)."""

    @property
    def supported(self) -> bool: ...
    @property
    def refresh_token_revoked(self) -> bool: ...
    @property
    def access_token_revoked(self) -> bool: ...
    @property
    def registration_deleted(self) -> bool | None: ...
    @property
    def errors(self) -> tuple[str, ...]: ...
    @property
    def client_unknown(self) -> bool: ...
    @property
    def will_retry(self) -> bool: ...
    @property
    def had_tokens(self) -> bool: ...
    @property
    def registration_skipped(self) -> str | None: ...

__all__ = ["describe_revocation", "registration_skip_reason"]


def registration_skip_reason(method: str | None, has_management_uri: bool) -> str:
    """Why removal does not delete a client registration at the server (RFC 7592)."""
    if method is None:
        return "no client registration was stored"
    if method == "cimd":
        return "the client is a metadata document: nothing is registered at the server"
    if method != "dcr":
        return "the client was registered in advance (delete it at the authorization server)"
    if not has_management_uri:
        return "the server offers no registration management (RFC 7592)"
    return "not attempted"


def _tokens(report: RevocationReport) -> str:
    if not report.had_tokens:
        return "nothing to revoke: not signed in"
    if not report.supported:
        return ("revocation is not supported by this server: the tokens were deleted here only "
                "(local only) and stay valid at the server until they expire")
    if report.client_unknown:
        return ("the server no longer knows this app, so nothing could be revoked; "
                "the tokens were deleted here")
    done = [what for what, ok in (("refresh token", report.refresh_token_revoked),
                                   ("access token", report.access_token_revoked)) if ok]
    parts = []
    if done:
        parts.append(f"{' and '.join(done)} revoked at the server"
                     if len(done) == 1 else "tokens revoked at the server")
    if report.errors:
        failed = "revocation failed (" + "; ".join(report.errors) + ")"
        failed += (": it will be retried in the background" if report.will_retry
                   else ": it will not be retried")
        parts.append(failed)
    return ", ".join(parts) or "the server accepted the revocation"


def describe_revocation(report: RevocationReport) -> str:
    """One sentence: the tokens' fate, then (removal only) the registration's."""
    text = _tokens(report)
    if report.registration_deleted is True:
        text += "; client registration deleted"
    elif report.registration_deleted is False:
        text += "; the client registration could not be deleted (the server refused or was unreachable)"
    elif report.registration_skipped:
        text += f"; client registration not deleted: {report.registration_skipped}"
    return text[0].upper() + text[1:] + "."
