"""Errors of the wire: the network failed, or a response could not be read safely.

The network family is transient (a retry may work, tokens are kept), except
TLS. The response-shape errors (size cap, compression bomb, redirects, JSON)
are protocol breaches found by ``core/http.py`` and ``core/jsonutil.py``.
"""

from __future__ import annotations

from mcp_auth_desktop.core.errors.base import McpAuthError, ProtocolError

__all__ = [
    "NetworkError",
    "HostNotFoundError",
    "ConnectionRefused",
    "TlsError",
    "ServerUnavailableError",
    "ResponseTooLargeError",
    "CompressionBombError",
    "RedirectError",
    "InvalidJsonError",
    "NotJsonError",
]


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
