"""Tokens for one server, straight from the manager's store, for every request.

No copy is kept: each request asks the :class:`TokenManager` (no background
loop, like the CLI), which reads the vault and refreshes ahead of expiry
under the vault's cross-process lock, so the app, the CLI and any number of
bridges send one refresh per rotation between them. After a 401 the token
that was refused is refreshed once, unless another process already replaced
it. When no token can be had the error says why (revoked or removed in the
app, sign-in expired) and what to do, and a sign-in is requested.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable

import httpx

from mcp_auth_desktop.bridge.signin import SignInRequester
from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.browser import BrowserOpener
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.registry import snapshot_from_document
from mcp_auth_desktop.core.server_status import ServerStatus
from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.runtime import start_manager
from mcp_auth_desktop.storage.base import SecretVault, SettingsStore

__all__ = ["BridgeTokens"]

log = logging.getLogger(__name__)


class BridgeTokens:
    """Implements :class:`~mcp_auth_desktop.bridge.upstream.TokenSource` for one server."""

    def __init__(
        self,
        ref: str,
        *,
        http: httpx.AsyncClient,
        vault: SecretVault,
        settings: SettingsStore,
        browser: BrowserOpener | None = None,
        requester_factory: Callable[[str, BridgeTokens], SignInRequester] | None = None,
    ) -> None:
        self.ref = ref
        self._http = http
        self._vault = vault
        self._settings = settings
        self._browser = browser
        self._requester_factory = requester_factory
        self._manager: TokenManager | None = None
        self.view: ServerView | None = None
        self.requester: SignInRequester | None = None

    # ------------------------------------------------------------ life cycle

    async def open(self) -> ServerView:
        """Load the manager and find the server; ServerNotFoundError when it is not added."""
        await self._reload()
        assert self.view is not None  # noqa: S101 - _reload sets it or raises
        return self.view

    async def _reload(self) -> None:
        """A fresh manager from storage: another process may have added, re-registered,
        revoked or removed the server since we looked."""
        old, self._manager = self._manager, None
        if old is not None:
            await old.aclose()
        manager = await start_manager(
            (self._vault, self._settings), self._http, browser=self._browser, background=False
        )
        self._manager = manager
        ref = self.view.id if self.view is not None else self.ref
        self.view = manager.get(ref)
        if self.requester is None and self._requester_factory is not None:
            self.requester = self._requester_factory(self.view.id, self)

    async def aclose(self) -> None:
        if self.requester is not None:
            await self.requester.aclose()
        if self._manager is not None:
            await self._manager.aclose()
            self._manager = None

    @property
    def manager(self) -> TokenManager:
        if self._manager is None:
            raise errors.ManagerError("The bridge's token manager is not open.")
        return self._manager

    @property
    def name(self) -> str:
        return self.view.name if self.view is not None else self.ref

    async def sign_in_here(self, scopes: tuple[str, ...]) -> object:
        """The browser sign-in run by the bridge itself (no app running)."""
        return await self.manager.sign_in(self.view.id if self.view else self.ref, scopes=scopes)

    # ---------------------------------------------------------------- tokens

    async def token(self) -> str:
        try:
            return await self._token()
        except (errors.SignInRequiredError, errors.ServerNotFoundError):
            pass
        # The store changed under us (signed in again elsewhere, a new registration,
        # a removal): look again with a fresh manager before giving up.
        try:
            await self._reload()
            return await self._token()
        except (errors.SignInRequiredError, errors.ServerNotFoundError) as exc:
            raise await self._explain(exc) from None

    async def _token(self) -> str:
        ref = self.view.id if self.view is not None else self.ref
        return await self.manager.get_token(ref)

    async def after_rejection(self, rejected: str) -> str:
        """A new token after the server refused ``rejected`` (one refresh at most)."""
        current = await self.token()
        if current != rejected:
            return current  # someone (another bridge, the app) already refreshed
        try:
            await self.manager.refresh(self.view.id if self.view else self.ref, force=True)
        except (errors.SignInRequiredError, errors.ServerNotFoundError) as exc:
            raise await self._explain(exc) from None
        return await self.token()

    async def step_up(self, scopes: tuple[str, ...], why: str) -> errors.InsufficientScopeError:
        """The error for a 403 insufficient_scope, after asking for a step-up sign-in."""
        name = self.name
        done = await self.requester.request(scopes) if self.requester is not None else ""
        scope_arg = " ".join(f"--scope {shlex.quote(s)}" for s in scopes)
        return errors.InsufficientScopeError(
            f"{why}. {done + ' ' if done else ''}To grant them, sign in again: "
            f"mcp-auth login {shlex.quote(name)}{' ' + scope_arg if scope_arg else ''}",
            scopes=scopes,
        )

    async def _explain(self, exc: errors.McpAuthError) -> errors.McpAuthError:
        """The reason no token can be had, in words a client can show, plus what to do."""
        name = self.view.name if self.view is not None else self.ref
        server_id = self.view.id if self.view is not None else None
        status: ServerStatus | None = None
        try:
            snap = snapshot_from_document(await self._settings.load())
            if server_id is not None:
                status = snap.status.get(server_id, ServerStatus()) if any(
                    s.id == server_id for s in snap.servers
                ) else None
        except errors.StorageError:
            status = ServerStatus()
        login = f"mcp-auth login {shlex.quote(name)}"
        if isinstance(exc, errors.ServerNotFoundError) and server_id is None:
            return errors.ServerNotFoundError(
                f"No server named {errors.sanitize_server_text(name, 120)!r} in MCP Auth Desktop. "
                f"Add it and sign in: mcp-auth login URL --name {shlex.quote(name)}"
            )
        if status is None:
            return errors.ServerNotFoundError(
                f"{name} was removed from MCP Auth Desktop. To use it again, add it and sign in: "
                f"mcp-auth login {self.view.url if self.view else 'URL'}"
            )
        if status.revoked:
            return errors.SignInRequiredError(
                f"Access to {name} was revoked in MCP Auth Desktop. To use it again, sign in: {login}"
            )
        done = await self.requester.request(()) if self.requester is not None else ""
        reason = status.last_error
        return errors.SignInRequiredError(
            f"Sign-in needed for {name}"
            + (f" ({errors.sanitize_server_text(reason, 200)})" if reason else "")
            + f". {done + ' ' if done else ''}Or sign in from a terminal: {login}"
        )
