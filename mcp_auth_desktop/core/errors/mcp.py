"""Errors of talking to an MCP server: JSON-RPC / Streamable HTTP failures and refusals.

A refusal (401, 403 insufficient_scope) is a ``ResourceAccessError`` carrying
the server's parsed ``WWW-Authenticate`` challenge when it sent one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_auth_desktop.core.errors.base import McpAuthError, ProtocolError

if TYPE_CHECKING:
    from mcp_auth_desktop.core.www_authenticate import BearerChallenge

__all__ = [
    "McpProtocolError",
    "SseStreamError",
    "UnsupportedProtocolVersionError",
    "InputRequiredError",
    "ResourceAccessError",
    "InvalidTokenError",
    "InsufficientScopeError",
]


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
