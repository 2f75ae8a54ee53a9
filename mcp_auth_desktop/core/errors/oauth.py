"""Errors of signing in: metadata and discovery, the browser step, and OAuth error responses.

``oauth_error_from_response`` maps an RFC 6749 §5.2 error code (and the HTTP
status) to its class; server-supplied text is sanitised before it is kept.
"""

from __future__ import annotations

from mcp_auth_desktop.core.errors.base import ConfigurationError, McpAuthError, ProtocolError
from mcp_auth_desktop.core.text import sanitize_server_text

__all__ = [
    "MetadataError",
    "DiscoveryError",
    "TokenResponseError",
    "AuthorizationError",
    "CallbackError",
    "StateMismatchError",
    "StartPageReusedError",
    "AuthorizationDenied",
    "AuthorizationTimeout",
    "DeviceCodeExpiredError",
    "DeviceGrantUnavailableError",
    "DeviceAuthorizationResponseError",
    "OAuthError",
    "InvalidGrantError",
    "InvalidClientError",
    "InvalidScopeError",
    "UnauthorizedClientError",
    "TemporarilyUnavailableError",
    "RegistrationError",
    "oauth_error_from_response",
]


class MetadataError(ProtocolError):
    """Protected resource or authorization server metadata is malformed or does not match."""


class DiscoveryError(MetadataError):
    """No usable metadata was found at any of the URLs the spec lists."""


class TokenResponseError(ProtocolError):
    """A token endpoint response that cannot be trusted (missing token, bad type…)."""


class AuthorizationError(McpAuthError):
    """The browser step of sign-in did not produce an authorization code."""


class CallbackError(AuthorizationError):
    """The loopback callback was rejected (state or iss mismatch, malformed)."""


class StateMismatchError(CallbackError):
    """A callback reached the listener with a wrong or missing ``state``.

    It ends the sign-in at once (issue 12): either an attack (cross-site request
    forgery, RFC 6749 §10.12) or a stale browser tab, and waiting would only hide it.
    """


class StartPageReusedError(AuthorizationError):
    """The single-use loopback start page was requested a second time.

    The first request is the browser the app started; a second one is another
    program (or a copied link) racing it, so the sign-in stops visibly.
    """


class AuthorizationDenied(AuthorizationError):
    """The user or the authorization server refused the request."""

    def __init__(self, message: str, *, error: str = "access_denied") -> None:
        super().__init__(message)
        self.error = error


class AuthorizationTimeout(AuthorizationError):
    """Nobody completed sign-in in the browser before the deadline."""

    transient = True


class DeviceCodeExpiredError(AuthorizationTimeout):
    """The device grant's code (RFC 8628) expired before anyone approved it."""


class DeviceGrantUnavailableError(ConfigurationError):
    """Sign-in with a code was asked for, but the authorization server offers no device grant."""


class DeviceAuthorizationResponseError(ProtocolError):
    """The device authorization answer (RFC 8628 §3.2) cannot be used or shown safely."""


class OAuthError(McpAuthError):
    """An OAuth error response (RFC 6749 §5.2 and friends).

    ``error`` is the registered error code; ``description`` is the server's
    text, sanitised; ``status`` the HTTP status when there was one.
    """

    def __init__(
        self,
        error: str,
        description: str | None = None,
        *,
        status: int | None = None,
        uri: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.error = sanitize_server_text(error, 80)
        self.description = sanitize_server_text(description) if description else None
        self.status = status
        self.uri = sanitize_server_text(uri) if uri else None
        self.retry_after = retry_after
        msg = f"The authorization server answered {self.error}"
        if self.description:
            msg += f": {self.description}"
        super().__init__(msg)


class InvalidGrantError(OAuthError):
    """The grant (code or refresh token) is no longer valid: sign in again."""


class InvalidClientError(OAuthError):
    """The client registration is unknown or its credentials are wrong."""


class InvalidScopeError(OAuthError):
    """The requested scope is invalid, unknown or exceeds the grant."""


class UnauthorizedClientError(OAuthError):
    """This client may not use this grant type."""


class TemporarilyUnavailableError(OAuthError):
    """The server is overloaded or failing (5xx, 429, temporarily_unavailable)."""

    transient = True


class RegistrationError(OAuthError):
    """Dynamic client registration (RFC 7591) was refused."""


_OAUTH_CLASSES: dict[str, type[OAuthError]] = {
    "invalid_grant": InvalidGrantError,
    "invalid_client": InvalidClientError,
    "invalid_scope": InvalidScopeError,
    "unauthorized_client": UnauthorizedClientError,
    "temporarily_unavailable": TemporarilyUnavailableError,
    "server_error": TemporarilyUnavailableError,
    "slow_down": TemporarilyUnavailableError,
}


def oauth_error_from_response(
    error: str,
    description: str | None = None,
    *,
    status: int | None = None,
    uri: str | None = None,
    retry_after: float | None = None,
) -> OAuthError:
    """Map an RFC 6749 error code (and HTTP status) to the matching class.

    5xx and 429 are transient whatever code the body carries, except that
    ``invalid_grant`` is always final: a server that says the grant is gone
    is believed.
    """
    cls = _OAUTH_CLASSES.get(error, OAuthError)
    if cls is not InvalidGrantError and status is not None and (status >= 500 or status == 429):
        cls = TemporarilyUnavailableError
    return cls(error, description, status=status, uri=uri, retry_after=retry_after)
