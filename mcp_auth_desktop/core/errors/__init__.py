"""The one error tree of MCP Auth Desktop.

Every failure the core, the storage layer or the manager can report is one of
these classes, so callers (GUI, CLI) catch exactly what they can act on::

    McpAuthError                      base; .user_message is safe to show, .transient
    ├── ConfigurationError            the user's input or settings are unusable
    │   ├── InsecureUrlError          non-https endpoint, bad scheme, SSRF-blocked address
    │   ├── ClientConfigError         an MCP client's config file cannot be read or edited safely
    │   └── DeviceGrantUnavailableError  sign-in with a code asked for; the AS offers no device grant
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
    │   ├── DeviceAuthorizationResponseError  an RFC 8628 device authorization answer we cannot use
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
    │       └── DeviceCodeExpiredError  nobody approved the device grant's code before it expired
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
    │   │   └── WeakPassphraseError   a new vault's passphrase the policy refuses
    │   ├── VaultCorruptError         vault moved aside; affected servers need sign-in
    │   ├── UnsafePathError           symlink, foreign owner, world-writable parent
    │   └── StorageWriteError         disk full, permission denied; nothing half-written
    └── ManagerError                  bookkeeping errors of the token manager
        ├── ServerNotFoundError
        ├── DuplicateServerError
        ├── EditConflictError         a field changed in an open edit was changed elsewhere too
        └── SignInRequiredError       no usable token; the user must sign in
            └── StaleClientError      the AS no longer knows this app's registration

The classes live in one module per family; import them from here
(``from mcp_auth_desktop.core.errors import X`` or ``errors.X``), never from
the family module, so a class can move between families without callers noticing:

    base.py      McpAuthError, ConfigurationError (+ children), ProtocolError
    network.py   NetworkError (+ children) and the response-shape ProtocolErrors
                 (ResponseTooLargeError … NotJsonError)
    oauth.py     MetadataError, DiscoveryError, TokenResponseError,
                 AuthorizationError and OAuthError (+ children), oauth_error_from_response,
                 the device grant's three (RFC 8628; DeviceGrantUnavailableError is a
                 ConfigurationError by kind but lives with the sign-in errors)
    mcp.py       McpProtocolError and ResourceAccessError (+ children)
    storage.py   StorageError (+ children)
    manager.py   ManagerError (+ children)

A new class goes into its family's module and is named in that module's
``__all__``; this package re-exports every family's ``__all__``
(tests/core/test_errors_package.py fails for a class left out).

Messages never contain a secret: constructors take only non-secret context,
and server-supplied text is sanitised (control characters removed, length
capped) before it is stored, so it cannot forge log lines.
"""

from __future__ import annotations

from mcp_auth_desktop.core.errors import base, manager, mcp, network, oauth, storage

# Each family names its classes once, in its own __all__; this package re-exports them all.
from mcp_auth_desktop.core.errors.base import *  # noqa: F403
from mcp_auth_desktop.core.errors.manager import *  # noqa: F403
from mcp_auth_desktop.core.errors.mcp import *  # noqa: F403
from mcp_auth_desktop.core.errors.network import *  # noqa: F403
from mcp_auth_desktop.core.errors.oauth import *  # noqa: F403
from mcp_auth_desktop.core.errors.storage import *  # noqa: F403

# Re-exported: the error tree and every caller that shows server text use the one cleaner.
from mcp_auth_desktop.core.text import sanitize_server_text

__all__ = ["sanitize_server_text"]
__all__ += base.__all__
__all__ += network.__all__
__all__ += oauth.__all__
__all__ += mcp.__all__
__all__ += storage.__all__
__all__ += manager.__all__
