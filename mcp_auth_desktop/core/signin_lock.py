"""One sign-in per server across processes (issue 15 #11).

The app, ``mcp-auth login`` and bridges may share one vault. Two of them signing
in to one server at once would open two consents, and the second token response
would overwrite the first (and with it a rotation the first process already made).
So a sign-in holds a cross-process lock for that server (``SecretVault.lock``, a
file lock beside the vault). A second process waits for it, saying so: it waits
for the other process's browser sign-in to finish (or to fail or time out). Then
it re-reads the vault: if the other process stored tokens for this server after
this sign-in was asked for, and they cover the scopes asked for, it joins that
sign-in (no second browser, no second token request); otherwise it signs in
itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from .errors import AuthorizationTimeout, StorageError
from .models import TokenSet
from .ports import SecretVault

__all__ = ["SIGN_IN_WAIT", "covers", "hold", "lock_name", "waiting_message"]

#: How long a second sign-in waits for the first: the sign-in's own 5-minute
#: timeout, plus a margin for the token exchange and storage.
SIGN_IN_WAIT = 330.0
#: Say that we wait only when the lock is not free almost at once.
_QUIET = 0.3


def lock_name(server_id: str) -> str:
    return f"sign-in:{server_id}"


def waiting_message(server_name: str) -> str:
    return (
        f"Another MCP Auth Desktop process (the app, mcp-auth or a bridge) is signing in to "
        f"{server_name} in the browser; waiting for that sign-in to finish, then using it."
    )


def covers(tokens: TokenSet | None, asked_since: float, scopes: tuple[str, ...]) -> bool:
    """Did another process store a sign-in after ``asked_since`` that has these scopes?"""
    if tokens is None or tokens.issued_at <= asked_since:
        return False
    return set(scopes) <= set(tokens.scope)


@contextlib.asynccontextmanager
async def hold(
    vault: SecretVault,
    server_id: str,
    *,
    on_wait: Callable[[], None],
    wait: float = SIGN_IN_WAIT,
) -> AsyncIterator[None]:
    """Hold the server's sign-in lock; ``on_wait`` is called once if another process has it."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        lock = vault.lock(lock_name(server_id))
        attempt = asyncio.ensure_future(lock.__aenter__())
        try:
            if not told:
                done, _ = await asyncio.wait({attempt}, timeout=_QUIET)
                if not done:
                    told = True
                    on_wait()
            await attempt
            break
        except StorageError:
            # The vault's lock gives up after its own timeout; a sign-in may take longer.
            if time.monotonic() >= deadline:
                raise AuthorizationTimeout(
                    f"Waited {wait:g} s for another process's sign-in to this server to finish; "
                    "it did not. Close the other sign-in (or the other program) and try again."
                ) from None
        except BaseException:
            if attempt.done() and not attempt.cancelled() and attempt.exception() is None:
                await lock.__aexit__(None, None, None)  # acquired just as we were cancelled
            attempt.cancel()
            raise
    try:
        yield
    finally:
        await lock.__aexit__(None, None, None)
