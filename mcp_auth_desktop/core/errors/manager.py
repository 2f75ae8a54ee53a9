"""Errors of the token manager's own bookkeeping: unknown or duplicate servers, no usable token."""

from __future__ import annotations

from typing import Any

from mcp_auth_desktop.core.errors.base import McpAuthError

__all__ = [
    "ManagerError",
    "ServerNotFoundError",
    "DuplicateServerError",
    "SignInRequiredError",
    "StaleClientError",
    "EditConflictError",
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


class EditConflictError(ManagerError):
    """A field the user changed was changed elsewhere meanwhile; nothing was saved.

    ``conflicts`` are ``core.edit_merge.FieldConflict`` (each field in words), ``current``
    the server's settings as stored now (a ``ServerConfig``), so the editor can show the
    new values and let the user choose. (Typed loosely: the error tree imports nothing
    from the modules that raise it.)
    """

    def __init__(self, name: str, conflicts: tuple[Any, ...], current: Any) -> None:
        said = "; ".join(
            f"the {c.field} {'are' if c.field.endswith('s') else 'is'} now {c.current!r} "
            f"(you entered {c.mine!r})" for c in conflicts)
        super().__init__(
            f"{name} was changed elsewhere since you began editing: {said}. Nothing was saved: "
            "choose which value to keep.")
        self.conflicts = conflicts
        self.current = current
