"""Errors of the token manager's own bookkeeping: unknown or duplicate servers, no usable token."""

from __future__ import annotations

from mcp_auth_desktop.core.errors.base import McpAuthError

__all__ = [
    "ManagerError",
    "ServerNotFoundError",
    "DuplicateServerError",
    "SignInRequiredError",
    "StaleClientError",
]


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
