"""The vault passphrase policy, in one place for the CLI, the GUI and storage (issue 16).

The policy applies when a vault is CREATED: a new passphrase must have at least
MIN_LENGTH characters. Unlocking asks only for a non-empty passphrase, so a vault
is always opened with the passphrase it was made with, whatever an older build
(or another front end) accepted then.
"""

from __future__ import annotations

__all__ = ["MIN_LENGTH", "creation_problem", "unlock_problem"]

#: Characters (code points) a new passphrase needs at least.
MIN_LENGTH = 8


def creation_problem(passphrase: str, repeat: str | None = None) -> str | None:
    """Why ``passphrase`` cannot protect a new vault, or None when it can."""
    if len(passphrase) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters for a new passphrase."
    if repeat is not None and passphrase != repeat:
        return "The two passphrases differ."
    return None


def unlock_problem(passphrase: str) -> str | None:
    """Why ``passphrase`` cannot even be tried on an existing vault (only when empty)."""
    return None if passphrase else "Enter the passphrase."
