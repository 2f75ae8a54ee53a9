"""Client controls from the origin audit list that had no test of their own.

* memory cleanup on exit: closing the vault drops every decrypted secret and
  the key; the manager never keeps a token in its own records (Python cannot
  zero memory, so "cleanup" means: no live reference remains to be dumped);
* audit logging: every security-relevant action (add, sign-in, refresh,
  revocation, sign-in needed, removal) leaves an event and a log line, and
  none of them carries a secret.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_auth_desktop.core.errors import InvalidGrantError
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.state import (
    LogEvent,
    ManagerEvent,
    ServerAdded,
    ServerRemoved,
    SignInNeeded,
    StateChanged,
    TokensRefreshed,
)
from mcp_auth_desktop.storage import FileVault, MemoryKeyProvider
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from mcp_auth_desktop.storage.paths import app_paths
from tests.manager.fakes import FakeClock, FakeOAuth


def _holds(value: Any, needle: str, depth: int = 2) -> bool:
    if isinstance(value, str):
        return needle in value
    # Copies are made in C under the GIL, so another thread (an executor worker left by
    # an earlier test) cannot change a container while we walk it.
    if depth and isinstance(value, dict):
        return any(_holds(v, needle, depth - 1) for v in value.copy().values())
    if depth and isinstance(value, list | tuple):
        return any(_holds(v, needle, depth - 1) for v in tuple(value))
    return False


def _containers_with_text(needle: str) -> int:
    """Live containers that reach ``needle`` within two levels.

    CPython does not track dicts that hold only strings, so the search starts
    at the tracked containers and looks one level further down.
    """
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, dict | list | tuple) and _holds(obj, needle))


async def test_closing_the_vault_drops_every_decrypted_secret_and_the_key() -> None:
    paths = app_paths(Path(os.environ["MCP_AUTH_DESKTOP_HOME"]))
    paths.ensure()
    marker = "canary-" + secrets.token_hex(16)
    vault = FileVault(paths, MemoryKeyProvider(os.urandom(32)))
    vault.open_sync()
    await vault.put("tokens/x", {"access_token": marker + "-at", "refresh_token": marker + "-rt"})
    got = await vault.get("tokens/x")
    assert got is not None and got["refresh_token"] == marker + "-rt"
    del got
    # While open, the decrypted entries are cached in memory (this makes the check meaningful).
    assert _containers_with_text(marker) >= 1
    await vault.aclose()
    # asyncio's default executor keeps the future of its last job (the decrypted read)
    # until its next job; hand it one, as any further work of the app would.
    await asyncio.to_thread(lambda: None)
    assert _containers_with_text(marker) == 0
    assert marker.encode() not in paths.vault_file.read_bytes()  # and on disk it is ciphertext


async def test_the_manager_keeps_no_token_in_its_own_records() -> None:
    clock = FakeClock()
    oauth = FakeOAuth(clock)
    vault = MemoryVault()
    async with httpx.AsyncClient() as http:
        m = TokenManager(http=http, vault=vault, settings=MemorySettings(), clock=clock, oauth=oauth)
        await m.start(background=False)
        await m.add_server("https://mcp.example/mcp", name="a")
        await m.sign_in("a")
        token = await m.get_token("a")
        assert token.startswith("AT-")
        records = list(m._servers.values())
        assert records
        for record in records:
            text = repr(vars(record)) + repr(m.get("a"))
            assert token not in text and "RT-" not in text and "RAT-secret" not in text
        await m.aclose()
        await vault.aclose()


async def test_every_security_action_leaves_an_event_and_a_log_line_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    oauth = FakeOAuth(clock)
    events: list[ManagerEvent] = []
    async with httpx.AsyncClient() as http:
        m = TokenManager(http=http, vault=MemoryVault(), settings=MemorySettings(), clock=clock, oauth=oauth)
        m.subscribe(events.append)
        with caplog.at_level(logging.DEBUG, logger="mcp_auth_desktop"):
            await m.start(background=False)
            await m.add_server("https://mcp.example/mcp", name="a")
            await m.sign_in("a")
            await m.refresh("a")
            oauth.fail_refresh.append(InvalidGrantError("invalid_grant", "revoked upstream"))
            with pytest.raises(Exception):  # noqa: B017,PT011 - the kind is asserted through the events
                await m.refresh("a")
            await m.sign_in("a")
            await m.revoke("a")
            await m.remove("a")
        await m.aclose()
    kinds = [type(e) for e in events]
    for kind in (ServerAdded, StateChanged, TokensRefreshed, SignInNeeded, ServerRemoved, LogEvent):
        assert kind in kinds, kind.__name__
    text = caplog.text
    for needle in ("added server a", "signed in to a", "sign-in needed for a", "revoked a", "removed a"):
        assert needle in text, needle
    secrets_seen: list[Any] = [f"AT-{i}-secret" for i in range(1, 6)] + [f"RT-{i}-secret" for i in range(1, 6)]
    for secret in [*secrets_seen, "RAT-secret"]:
        assert secret not in text
        assert all(secret not in repr(e) for e in events)
