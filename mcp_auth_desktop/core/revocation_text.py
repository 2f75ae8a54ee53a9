"""What Revoke and Remove did at the server (:class:`RevocationReport`), and in words
(issue 16: no misleading messages).

Each part says exactly one thing that happened: tokens revoked (which), not
supported by this server, failed and will be retried, the server no longer
knows this app, and for removal whether the client registration was deleted,
or why it was not (skipped, refused).

The report is answered by :mod:`core.state` too (where callers import it); it is
defined here because the window's first frame (gui/entry.py's PRELOAD) loads
``core.state`` and needs no report, and each dataclass costs about a millisecond
to create.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RevocationReport", "describe_revocation", "registration_skip_reason"]


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


@dataclass(frozen=True)
class RevocationReport:
    """What revocation and removal actually achieved at the server."""

    supported: bool
    refresh_token_revoked: bool = False
    access_token_revoked: bool = False
    registration_deleted: bool | None = None
    errors: tuple[str, ...] = field(default=())
    #: The authorization server no longer knows this app's registration (core/stale_client.py):
    #: nothing could be revoked, and retrying with the same client is pointless.
    client_unknown: bool = False

    #: A failed revocation was queued and will be retried in the background.
    will_retry: bool = False
    #: False when there were no tokens to revoke (never signed in, or already signed out).
    had_tokens: bool = True
    #: Removal only: why the registration was not deleted when no deletion was tried.
    registration_skipped: str | None = None

    def summary(self) -> str:
        return describe_revocation(self)
