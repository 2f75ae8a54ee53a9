"""The documented exit codes of ``mcp-auth`` and which error maps to which (docs/CLI.md)."""

from __future__ import annotations

from mcp_auth_desktop.core import errors

__all__ = ["EXIT_CODES", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_NOT_FOUND", "EXIT_OK",
           "EXIT_SIGN_IN", "EXIT_STORAGE", "EXIT_TRANSIENT", "EXIT_USAGE", "UsageError",
           "exit_code_for"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SIGN_IN = 3
EXIT_NOT_FOUND = 4
EXIT_TRANSIENT = 5
EXIT_STORAGE = 6
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_ERROR: "an error not covered below (the message says what happened)",
    EXIT_USAGE: "wrong usage or unusable input (bad URL, duplicate name, bad JSON)",
    EXIT_SIGN_IN: "sign-in needed: not signed in, the grant expired or was revoked, "
    "or the sign-in was not completed",
    EXIT_NOT_FOUND: "no server with that name, id or URL",
    EXIT_TRANSIENT: "network or server temporarily unavailable: try again later",
    EXIT_STORAGE: "secrets or settings could not be read or written (keyring, vault, disk)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


class UsageError(Exception):
    """Bad command-line input found after argparse (exit code 2)."""


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an error."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, errors.ServerNotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(
        exc,
        errors.SignInRequiredError
        | errors.InvalidGrantError
        | errors.AuthorizationError
        | errors.InvalidTokenError
        | errors.InsufficientScopeError,
    ):
        return EXIT_SIGN_IN
    if isinstance(exc, errors.StorageError):
        return EXIT_STORAGE
    if isinstance(exc, errors.ConfigurationError | errors.DuplicateServerError):
        return EXIT_USAGE
    if isinstance(exc, errors.McpAuthError) and exc.transient:
        return EXIT_TRANSIENT
    return EXIT_ERROR
