"""The roots of the error tree: the base class, the user's own input, and protocol breaches.

``ProtocolError`` lives here because every family below it (transport, OAuth,
MCP) derives from it, and each family module imports only from this one.
"""

from __future__ import annotations

__all__ = [
    "McpAuthError",
    "ConfigurationError",
    "InsecureUrlError",
    "ClientConfigError",
    "ProtocolError",
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


class ProtocolError(McpAuthError):
    """A server answered with something that breaks the protocol."""
