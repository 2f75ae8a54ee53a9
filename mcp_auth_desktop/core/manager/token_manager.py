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
  (``core/loopback.py`` via ``OAuthClient``); the manager never picks ports.

Secrets never appear in a log line, an event or a ``ServerView``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.manager import (
    background,
    calls,
    editing,
    loading,
    refresh,
    removal,
    revocation,
    servers,
    sign_in,
    views,
)
from mcp_auth_desktop.core.manager.shared import ManagerState, log
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions, TokenSet
from mcp_auth_desktop.core.server_edit import EditOutcome, ServerEdit
from mcp_auth_desktop.core.state import ManagerEvent, RevocationReport, ServerView


class TokenManager(ManagerState):
    """Registry, state machine, background refresh, revocation and removal of MCP servers.

    The work is done by the modules of this package (functions over the shared
    ``ManagerState``); this class is the API the GUI, the CLI and the bridge use.
    """

    # ------------------------------------------------------------------ life

    async def start(self, *, background: bool = True) -> None:
        """Load the servers; with ``background`` also run the refresh loop and watch settings.

        The CLI passes ``background=False``: it serves one command and exits,
        while the GUI (or a daemon) keeps the loop.
        """
        if self._started:
            return
        self._started = True
        self._jumps.observe(self._clock.time(), self._clock.monotonic())
        await loading.reconcile(self, await self._settings.load())
        if background:
            self._spawn(self._scheduler_loop(), "scheduler")
            self._spawn(loading.watch_settings(self), "settings-watch")

    async def aclose(self) -> None:
        """Cancel every task; the http client, vault and settings stay open (the caller owns them)."""
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

    async def add_server(
        self,
        url: str,
        *,
        name: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        client_auth_method: str | None = None,
        scopes: tuple[str, ...] = (),
        options: ServerOptions = ServerOptions(),  # noqa: B008 - frozen
        discover: bool = True,
    ) -> ServerView:
        """Add a server; with ``discover`` find its authorization server first.

        Discovery runs before anything is stored: when it fails (unreachable,
        refused, unusable metadata) its typed error is raised and nothing is
        left behind. To keep such a server for later, add it again with
        ``discover=False`` (the GUI asks first; the CLI has ``--no-discover``).
        """
        return await servers.add_server(
            self, url, name=name, client_id=client_id, client_secret=client_secret,
            client_auth_method=client_auth_method, scopes=scopes, options=options,
            discover=discover,
        )

    async def rename(self, ref: str, name: str) -> ServerView:
        return await servers.rename(self, ref, name)

    def server_config(self, ref: str) -> ServerConfig:
        """The server's stored settings (no secret in them), for editing them."""
        return self._resolve(ref).config

    async def update_options(self, ref: str, options: ServerOptions) -> ServerView:
        """Change a server's advanced options (resource override, callback port…)."""
        return await servers.update_options(self, ref, options)

    async def has_client_secret(self, ref: str) -> bool:
        """Whether a client secret is stored (for the edit dialog; the value is never shown)."""
        return await editing.has_client_secret(self, ref)

    async def edit_server(self, ref: str, edit: ServerEdit) -> EditOutcome:
        """Change the scopes, the pre-registered client or the options; says what it means."""
        return await editing.edit_server(self, ref, edit)

    async def rediscover(self, ref: str) -> ServerView:
        s = self._resolve(ref)
        await servers.discover(self, s, force=True)
        return views.view(s)

    # --------------------------------------------------------------- sign-in

    async def sign_in(
        self,
        ref: str,
        *,
        on_authorization_url: Callable[[str], None] | None = None,
        scopes: tuple[str, ...] = (),
        re_register: bool = False,
    ) -> ServerView:
        """Run the browser sign-in; ``scopes`` adds challenged scopes (step-up) to the request.

        ``re_register`` makes a new dynamic client registration first (the user's way
        out when the authorization server forgot this app without saying so).
        """
        s = self._resolve(ref)
        await sign_in.authorize(
            self, s, on_authorization_url=on_authorization_url, challenged=scopes,
            re_register=re_register,
        )
        return views.view(s)

    # --------------------------------------------------------------- refresh

    async def refresh(self, ref: str, *, force: bool = True) -> ServerView:
        """Refresh now (``force``) or only when the token is due.

        A forced refresh that finds another caller already rotated the token
        after this one was asked for uses that result instead of sending a
        second request.
        """
        s = self._resolve(ref)
        await refresh.refresh(self, s, force=force, min_ttl=refresh.margin_ttl(self, s))
        return views.view(s)

    async def get_token(self, ref: str, *, min_ttl: float = 60.0) -> str:
        """A valid access token, refreshed first when it would expire within ``min_ttl`` s.

        When a refresh fails transiently and the current token is still valid
        it is returned anyway: a flaky token endpoint must not break callers.
        """
        return await refresh.get_token(self, ref, min_ttl=min_ttl)

    async def token_info(self, ref: str, *, min_ttl: float = 60.0) -> TokenSet:
        """Like :meth:`get_token` but the whole token set (for ``mcp-auth token --json``)."""
        s = self._resolve(ref)
        await self.get_token(ref, min_ttl=min_ttl)
        return await refresh.current_tokens(self, s)

    # ------------------------------------------------------ background loop

    async def run_due(self) -> None:
        """Start every refresh that is due now and wait for them (the loop's step; tests call it)."""
        await background.run_due(self)

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
        """Revoke at the server (refresh token, then access token), then delete locally."""
        s = self._resolve(ref)
        async with s.lock:
            report = await revocation.revoke(self, s)
        return report

    async def retry_pending_revocations(self, *, only_due: bool = False) -> list[RevocationReport]:
        """Retry revocations that failed earlier; successful ones are forgotten."""
        return await revocation.retry_pending(self, only_due=only_due)

    async def remove(self, ref: str) -> RevocationReport:
        """Revoke, delete a dynamic registration (RFC 7592) where possible, forget everything."""
        return await removal.remove(self, ref)

    async def forget_everything(self, *, revoke: bool = True) -> list[tuple[str, str]]:
        """Remove every server, then delete the vault file, its keyring item and the server list.

        With ``revoke`` each server is removed as by :meth:`remove` first (revocation and
        deregistration at the server); what the servers answer never stops the local
        deletion, which is the point of this action. Returns (server name, outcome) pairs.
        The vault is gone afterwards: the CLI exits and the app closes.
        """
        return await removal.forget_everything(self, revoke=revoke)

    # ------------------------------------------------------------ MCP calls

    async def call(
        self,
        ref: str,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        interactive: bool = False,
        on_authorization_url: Callable[[str], None] | None = None,
    ) -> Any:
        """One authenticated MCP request; returns its JSON-RPC result.

        401: refresh once, then sign in (``interactive``) or raise
        SignInRequiredError. 403 insufficient_scope: step-up sign-in with the
        union of the granted and challenged scopes. At most
        ``MAX_AUTHORIZATIONS_PER_CALL`` authorizations in all, so a server
        that keeps refusing cannot loop us.
        """
        return await calls.call(
            self, ref, method, params, interactive=interactive,
            on_authorization_url=on_authorization_url,
        )
