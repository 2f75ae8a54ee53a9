"""A stale client: the authorization server no longer knows this app's registration.

It happens when an authorization server that keeps clients in memory restarts
(every SDK demo server, FastMCP's in-memory provider, our mock), or when an
administrator deletes the client. Servers say it in different ways: RFC 6749
``invalid_client`` (the usual one), ``unauthorized_client`` (the MCP Python
SDK's revocation endpoint), or ``invalid_request`` with a description such as
"Client ID not found". :func:`is_stale_client` recognises all of them; the
manager then makes one new dynamic registration on the next sign-in
(``OAuthClient.sign_in(re_register=True)``) and says so in words
(:func:`reregistering_message`).

When the server does not say it (the TypeScript SDK's example answers a token
it no longer knows with HTTP 500, and its authorization page shows "Invalid
client_id" in the browser, where the app cannot see it), the user is told what
to do instead: :func:`browser_error_hint` while the browser is open and
:func:`server_failure_hint` after a server failure.
"""

from __future__ import annotations

import re
import shlex

from .errors import InvalidClientError, McpAuthError, OAuthError, UnauthorizedClientError

__all__ = [
    "is_stale_client",
    "reregistering_message",
    "refused_after_approval",
    "browser_error_hint",
    "server_failure_hint",
    "gui_server_failure_hint",
    "RE_REGISTER_ACTION",
    "REVOCATION_CLIENT_UNKNOWN",
]

#: The GUI's name for doing it by hand (details panel and row menu).
RE_REGISTER_ACTION = "Register again and sign in"

#: A revocation the server refused because it no longer knows this app. A new registration
#: could not revoke tokens issued to the old one (RFC 7009 §2.1), so none is made for it;
#: the next sign-in registers again.
REVOCATION_CLIENT_UNKNOWN = (
    "the authorization server no longer knows this app (it was probably restarted, or the "
    "registration was deleted), so it revoked nothing; it has most likely forgotten these "
    "tokens too. The next sign-in registers this app again"
)

# "Client ID not found", "client_id not found", "Unknown client", "Invalid client_id",
# "client not registered": descriptions some servers send with invalid_request.
_CLIENT_UNKNOWN = re.compile(
    r"\bclient(?:[ _-]?id)?\b[^.]{0,40}\b(?:not found|unknown|not registered|does not exist|invalid)\b"
    r"|\b(?:unknown|invalid|unregistered)\s+client(?:[ _-]?id)?\b",
    re.IGNORECASE,
)


def is_stale_client(exc: BaseException) -> bool:
    """Does this error from a token, refresh or revocation request say the client is unknown?"""
    if isinstance(exc, InvalidClientError | UnauthorizedClientError):
        return True
    if isinstance(exc, OAuthError) and exc.error == "invalid_request":
        return bool(exc.description and _CLIENT_UNKNOWN.search(exc.description))
    return False


def reregistering_message(name: str) -> str:
    return (
        f"The authorization server of {name} no longer knows this app (it was probably "
        "restarted, or the registration was deleted): registering this app again, then "
        "signing in once more."
    )


def refused_after_approval(answer: str) -> str:
    """The token endpoint refused the client right after the user approved in the browser."""
    return (
        f"{answer}. The authorization server no longer accepts this app's registration; "
        "the next sign-in registers this app again. Sign in once more."
    )


def browser_error_hint(name: str) -> str:
    """What to do when the browser shows the authorization server's error page."""
    return (
        "If the browser shows an error about the client or the redirect (such as "
        "'Invalid client_id', 'Client ID not found' or 'Unregistered redirect_uri'), the "
        "server has forgotten this app: press Ctrl-C and run "
        f"`mcp-auth login --re-register {shlex.quote(name)}`."
    )


def gui_server_failure_hint(exc: McpAuthError) -> str | None:
    """The GUI's words for :func:`server_failure_hint` (its action instead of the command)."""
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or status < 500:
        return None
    return (
        "If its authorization server was restarted, it may have forgotten this app: choose "
        f"Server → {RE_REGISTER_ACTION}."
    )


def server_failure_hint(name: str, exc: McpAuthError) -> str | None:
    """After a server failure (HTTP 5xx) to a request with a stored token, the way out."""
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or status < 500:
        return None
    return (
        f"If the authorization server of {name} was restarted, it may have forgotten this app "
        "and its token (some servers answer that with HTTP 500 instead of 401): run "
        f"`mcp-auth login --re-register {shlex.quote(name)}` to register again and sign in."
    )
