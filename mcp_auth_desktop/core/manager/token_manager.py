"""TokenManager: the one API the GUI and the CLI use.

``TokenManager`` keeps a registry of MCP servers, drives each through the state machine of
``core/state.py``, refreshes every signed-in server ahead of expiry in the
background, serves access tokens, revokes honestly and removes completely.

How the failures users report of other MCP clients' token handling are made
impossible:

* Lost refreshes after a restart: expiry is absolute and discovery and the
  registration are persisted (``core/registry.py``), so a restarted process
  refreshes at the right endpoint without rediscovery.
* Concurrent refreshes of a rotating refresh token: one refresh per server in
  the process (an ``asyncio.Lock`` per server) and across processes (the
  vault's per-entry lock, held across the whole refresh, taken *after*
  noting which token the caller saw and followed by a re-read). A caller who
  finds that someone else already rotated uses that result: nothing goes on
  the wire. A loser that still gets ``invalid_grant`` re-reads first and
  never wipes a winner's token.
* Transient errors treated as fatal: only ``invalid_grant`` removes tokens.
  5xx, 429, timeouts and network errors back off (capped, jittered,
  ``Retry-After`` honoured) while the still-valid access token keeps being
  served.
* Port conflicts: the loopback listener binds an ephemeral port per flow
  (``core/loopback/`` via ``OAuthClient``); the manager never picks ports.

Secrets never appear in a log line, an event or a ``ServerView``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from mcp_auth_desktop.core import errors

# refresh, servers and sign_in are imported under other names: the methods they
# implement take those names in the class.
from mcp_auth_desktop.core.manager import (
    background,
    calls,
    editing,
    loading,
    removal,
    revocation,
    views,
)
from mcp_auth_desktop.core.manager import refresh as refreshing
from mcp_auth_desktop.core.manager import servers as registry
from mcp_auth_desktop.core.manager import sign_in as signing
from mcp_auth_desktop.core.manager.shared import ManagerState, log
from mcp_auth_desktop.core.manager.sign_in import Authorization
from mcp_auth_desktop.core.models import ServerConfig, TokenSet
from mcp_auth_desktop.core.ports import ManagerLike
from mcp_auth_desktop.core.state import ManagerEvent, RevocationReport, ServerView


class TokenManager(ManagerState, ManagerLike):
    """Registry, state machine, background refresh, revocation and removal of MCP servers.

    The API the GUI, the CLI and the bridge use. Its contract and documentation are
    :class:`~mcp_auth_desktop.core.ports.ManagerLike`'s (inherited here, so mypy checks
    the two agree); the work is done by the modules of this package, functions over the
    shared ``ManagerState``, most of them bound below as the methods themselves.
    """

    # ------------------------------------------------------------------ life

    async def start(self, *, background: bool = True) -> None:
        if self._started:
            return
        self._started = True
        self._jumps.observe(self._clock.time(), self._clock.monotonic())
        await loading.reconcile(self, await self._settings.load())
        if background:
            self._spawn(self._scheduler_loop(), "scheduler")
            self._spawn(loading.watch_settings(self), "settings-watch")

    async def aclose(self) -> None:
        self._closed = True
        await self._records.drain()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    # ---------------------------------------------------------------- events

    def subscribe(self, callback: Callable[[ManagerEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    # ----------------------------------------------------------------- views

    def servers(self) -> list[ServerView]:
        return [views.view(s) for s in self._servers.values()]

    def get(self, ref: str) -> ServerView:
        return views.view(self._resolve(ref))

    # -------------------------------------------------------------- registry

    add_server = registry.add_server
    rename = registry.rename
    update_options = registry.update_options

    def server_config(self, ref: str) -> ServerConfig:
        return self._resolve(ref).config

    has_client_secret = editing.has_client_secret
    edit_server = editing.edit_server

    async def rediscover(self, ref: str) -> ServerView:
        s = self._resolve(ref)
        await registry.discover(self, s, force=True)
        return views.view(s)

    # --------------------------------------------------------------- sign-in

    async def sign_in(
        self, ref: str, *, on_authorization_url: Callable[[str], None] | None = None,
        scopes: tuple[str, ...] = (), re_register: bool = False,
    ) -> ServerView:
        s = self._resolve(ref)
        await signing.authorize(self, s, Authorization(
            on_authorization_url=on_authorization_url, challenged=scopes, re_register=re_register,
        ))
        return views.view(s)

    # --------------------------------------------------------------- refresh

    async def refresh(self, ref: str, *, force: bool = True) -> ServerView:
        s = self._resolve(ref)
        await refreshing.refresh(self, s, force=force, min_ttl=refreshing.margin_ttl(self, s))
        return views.view(s)

    get_token = refreshing.get_token

    async def token_info(self, ref: str, *, min_ttl: float = 60.0) -> TokenSet:
        """Like :meth:`get_token` but the whole token set (for ``mcp-auth token --json``)."""
        s = self._resolve(ref)
        await self.get_token(ref, min_ttl=min_ttl)
        return await refreshing.current_tokens(self, s)

    # ------------------------------------------------------ background loop

    run_due = background.run_due

    def _next_wake(self) -> float:
        return background.next_wake(self)

    async def _sleep_until_woken(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when something sets the wake event."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _scheduler_loop(self) -> None:
        # Sleeping on the event loop uses the monotonic clock; we never sleep
        # longer than WAKE_CHECK_INTERVAL so a suspend or wall-clock jump is
        # noticed quickly and due refreshes run right after wake.
        await revocation.load_pending_schedule(self)
        while not self._closed:
            try:
                await background.check_clock(self)
            except errors.McpAuthError as exc:
                log.info("could not re-read storage after a clock jump: %s", exc)
            background.launch_due(self)
            try:
                await self.retry_pending_revocations(only_due=True)
            except errors.McpAuthError as exc:
                log.info("pending revocations could not be retried: %s", exc)
            self._wake.clear()
            await self._sleep_until_woken(self._next_wake())

    # --------------------------------------------------------- revoke/remove

    async def revoke(self, ref: str) -> RevocationReport:
        s = self._resolve(ref)
        async with s.lock:
            report = await revocation.revoke(self, s)
        return report

    retry_pending_revocations = revocation.retry_pending
    remove = removal.remove
    forget_everything = removal.forget_everything

    # ------------------------------------------------------------ MCP calls

    call = calls.call
