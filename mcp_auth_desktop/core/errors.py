"""The one error tree of MCP Auth Desktop.

Every failure the core, the storage layer or the manager can report is one of
these classes, so callers (GUI, CLI) catch exactly what they can act on::

    McpAuthError                      base; .user_message is safe to show, .transient
    ├── ConfigurationError            the user's input or settings are unusable
    │   ├── InsecureUrlError          non-https endpoint, bad scheme, SSRF-blocked address
    │   └── ClientConfigError         an MCP client's config file cannot be read or edited safely
    ├── NetworkError                  connect/read failure or timeout (transient)
    │   ├── HostNotFoundError         DNS could not resolve the host
    │   ├── ConnectionRefused         nothing listens at host:port
    │   ├── TlsError                  TLS handshake or certificate failure (not transient)
    │   └── ServerUnavailableError    a metadata URL answered 5xx (not "no metadata")
    ├── ProtocolError                 a server broke the protocol
    │   ├── ResponseTooLargeError     body over the cap
    │   │   └── CompressionBombError  small on the wire, over the cap once decompressed
    │   ├── RedirectError             redirect loop, too many redirects, redirect without Location
    │   ├── InvalidJsonError          not JSON, NaN, duplicate keys, wrong top-level type
    │   │   └── NotJsonError          a 2xx answer of another media type (an HTML page)
    │   ├── MetadataError             malformed or mismatched PRM / AS metadata
    │   │   └── DiscoveryError        no usable metadata found at any well-known URL
    │   ├── TokenResponseError        a token response that cannot be trusted
    │   └── McpProtocolError          a JSON-RPC / Streamable HTTP failure
    │       ├── SseStreamError        an event stream the client cannot use (bad event id, ...)
    │       ├── UnsupportedProtocolVersionError  no protocol revision both sides speak
    │       └── InputRequiredError    the server needs input (sampling, ...) we cannot give
    ├── AuthorizationError            the browser step did not yield a code
    │   ├── CallbackError             state / iss mismatch, malformed callback
    │   │   └── StateMismatchError    the callback's state was wrong or missing (possible CSRF)
    │   ├── StartPageReusedError      the single-use loopback start page was opened twice
    │   ├── AuthorizationDenied       the user or AS refused (error=access_denied …)
    │   └── AuthorizationTimeout      nobody came back to the loopback listener in time
    ├── OAuthError                    an RFC 6749 §5.2 error from token/registration/revocation
    │   ├── InvalidGrantError         sign-in needed (never transient)
    │   ├── InvalidClientError        registration unusable; re-register once
    │   ├── InvalidScopeError
    │   ├── UnauthorizedClientError
    │   ├── TemporarilyUnavailableError   server_error / temporarily_unavailable / 5xx / 429
    │   └── RegistrationError         RFC 7591 error response
    ├── ResourceAccessError           the MCP server refused a request
    │   ├── InvalidTokenError         401 with a token (refresh, then sign in)
    │   └── InsufficientScopeError    403 insufficient_scope (step-up)
    ├── StorageError                  secrets or settings could not be kept
    │   ├── KeyringUnavailableError   no usable OS keyring (hang, locked, absent)
    │   ├── VaultLockedError          passphrase needed or wrong
    │   ├── VaultCorruptError         vault moved aside; affected servers need sign-in
    │   ├── UnsafePathError           symlink, foreign owner, world-writable parent
    │   └── StorageWriteError         disk full, permission denied; nothing half-written
    └── ManagerError                  bookkeeping errors of the token manager
        ├── ServerNotFoundError
        ├── DuplicateServerError
        └── SignInRequiredError       no usable token; the user must sign in

Messages never contain a secret: constructors take only non-secret context,
and server-supplied text is sanitised (control characters removed, length
capped) before it is stored, so it cannot forge log lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Re-exported: the error tree and every caller that shows server text use the one cleaner.
from mcp_auth_desktop.core.text import sanitize_server_text

if TYPE_CHECKING:
    from mcp_auth_desktop.core.www_authenticate import BearerChallenge

__all__ = [
    "McpAuthError",
    "ConfigurationError",
    "InsecureUrlError",
    "ClientConfigError",
    "NetworkError",
    "HostNotFoundError",
    "ConnectionRefused",
    "TlsError",
    "ServerUnavailableError",
    "ProtocolError",
    "ResponseTooLargeError",
    "CompressionBombError",
    "RedirectError",
    "InvalidJsonError",
    "NotJsonError",
    "MetadataError",
    "DiscoveryError",
    "TokenResponseError",
    "McpProtocolError",
    "SseStreamError",
    "UnsupportedProtocolVersionError",
    "InputRequiredError",
    "AuthorizationError",
    "CallbackError",
    "StateMismatchError",
    "StartPageReusedError",
    "AuthorizationDenied",
    "AuthorizationTimeout",
    "OAuthError",
    "InvalidGrantError",
    "InvalidClientError",
    "InvalidScopeError",
    "UnauthorizedClientError",
    "TemporarilyUnavailableError",
    "RegistrationError",
    "ResourceAccessError",
    "InvalidTokenError",
    "InsufficientScopeError",
    "StorageError",
    "KeyringUnavailableError",
    "VaultLockedError",
    "VaultCorruptError",
    "UnsafePathError",
    "StorageWriteError",
    "ManagerError",
    "ServerNotFoundError",
    "DuplicateServerError",
    "SignInRequiredError",
    "StaleClientError",
    "sanitize_server_text",
    "oauth_error_from_response",
]

class McpAuthError(Exception):
    """Base of every error this application raises on purpose."""

    #: A transient error may succeed when retried later; tokens are kept.
    transient: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def user_message(self) -> str:
        """Text that is safe to show to the user (never contains a secret)."""
        return self.message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(McpAuthError):
    """The user's input or settings cannot be used as they are."""


class InsecureUrlError(ConfigurationError):
    """A URL was refused: plain http off loopback, a bad scheme, or a blocked address."""


class ClientConfigError(ConfigurationError):
    """An MCP client's configuration file cannot be parsed or safely edited; it was left as is."""


class NetworkError(McpAuthError):
    """The network failed (connect, read, TLS, timeout). Always transient."""

    transient = True


class HostNotFoundError(NetworkError):
    """The host name could not be resolved (DNS)."""


class ConnectionRefused(NetworkError):
    """The host answered, but nothing accepts connections on that port."""


class TlsError(NetworkError):
    """The TLS handshake failed or the certificate could not be verified.

    Not transient: retrying will not change a certificate.
    """

    transient = False


class ServerUnavailableError(NetworkError):
    """A server answered a metadata request with a 5xx: failing now, not "no metadata"."""


class ProtocolError(McpAuthError):
    """A server answered with something that breaks the protocol."""


class ResponseTooLargeError(ProtocolError):
    """A response body went over the size cap."""


class CompressionBombError(ResponseTooLargeError):
    """A compressed body that expands past the size cap (a compression bomb)."""


class RedirectError(ProtocolError):
    """A redirect loop, too many redirects, or a redirect that cannot be followed."""


class InvalidJsonError(ProtocolError):
    """A response was not acceptable JSON (bad syntax, NaN, duplicate keys, wrong type)."""


class NotJsonError(InvalidJsonError):
    """A successful answer whose media type is not JSON (e.g. a web app's HTML page)."""


class MetadataError(ProtocolError):
    """Protected resource or authorization server metadata is malformed or does not match."""


class DiscoveryError(MetadataError):
    """No usable metadata was found at any of the URLs the spec lists."""


class TokenResponseError(ProtocolError):
    """A token endpoint response that cannot be trusted (missing token, bad type…)."""


class McpProtocolError(ProtocolError):
    """An MCP JSON-RPC request failed at the protocol level."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        #: The HTTP status when the server answered with an unexpected one (e.g. 500).
        self.status = status


class SseStreamError(McpProtocolError):
    """A Server-Sent Events stream the client cannot use (e.g. an event id that cannot be sent back)."""


class UnsupportedProtocolVersionError(McpProtocolError):
    """The server and this client share no MCP protocol revision."""

    def __init__(
        self, message: str, *, supported: tuple[str, ...] = (), code: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.supported = supported


class InputRequiredError(McpProtocolError):
    """A multi round-trip request (SEP-2322) needs input this client cannot provide."""


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


class ResourceAccessError(McpAuthError):
    """The MCP server refused a request.

    ``challenge`` is the server's parsed ``WWW-Authenticate: Bearer`` challenge
    (a ``core.www_authenticate.BearerChallenge``) when it sent one.
    """

    challenge: BearerChallenge | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidTokenError(ResourceAccessError):
    """The MCP server answered 401: the access token was missing, expired or revoked."""


class InsufficientScopeError(ResourceAccessError):
    """The MCP server answered 403 insufficient_scope; ``scopes`` is what it asked for."""

    def __init__(self, message: str, *, scopes: tuple[str, ...] = (), status: int = 403) -> None:
        super().__init__(message, status=status)
        self.scopes = scopes


class StorageError(McpAuthError):
    """Secrets or settings could not be read or written."""


class KeyringUnavailableError(StorageError):
    """No usable OS keyring: absent, locked, or not answering in time."""


class VaultLockedError(StorageError):
    """The vault needs a passphrase, or the one given is wrong."""


class WeakPassphraseError(VaultLockedError):
    """A new vault was to be protected by a passphrase the policy refuses (core/passphrase_policy)."""


class VaultCorruptError(StorageError):
    """The vault could not be decrypted or parsed; it was moved aside.

    ``moved_to`` is where the damaged file now lies.
    """

    def __init__(self, message: str, *, moved_to: str | None = None) -> None:
        super().__init__(message)
        self.moved_to = moved_to


class UnsafePathError(StorageError):
    """A storage path is a symlink, owned by someone else, or has an unsafe parent."""


class StorageWriteError(StorageError):
    """A write failed (disk full, permission denied); the old content is intact."""


class ManagerError(McpAuthError):
    """An error of the token manager's own bookkeeping."""


class ServerNotFoundError(ManagerError):
    """No server matches the given name, id or URL."""


class DuplicateServerError(ManagerError):
    """A server with this URL or name already exists."""


class SignInRequiredError(ManagerError):
    """There is no usable token for this server: the user must sign in."""


class StaleClientError(SignInRequiredError):
    """The authorization server no longer knows this app's registration (see core/stale_client.py).

    The next sign-in registers again; until then the server needs a sign-in.
    """


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
