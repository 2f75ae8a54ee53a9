"""Authenticated MCP calls: refresh once after a 401, sign in or step up when allowed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.manager import refresh, servers, sign_in
from mcp_auth_desktop.core.manager.record import MAX_AUTHORIZATIONS_PER_CALL, ServerRecord
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.mcp import memory
from mcp_auth_desktop.core.ports import McpClientLike, TokenProvider
from mcp_auth_desktop.core.www_authenticate import BearerChallenge

log = logging.getLogger("mcp_auth_desktop.core.manager")


def make_mcp_client(m: ManagerState, s: ServerRecord, provider: TokenProvider) -> McpClientLike:
    if m._mcp_factory is not None:
        return m._mcp_factory(m._http, s.config.url, provider)
    from mcp_auth_desktop.core.mcp import McpClient

    era = s.status.mcp.era  # the revision that worked last: no probe
    client: McpClientLike = McpClient(m._http, s.config.url, token_provider=provider, era=era)
    return client


async def call(
    m: ManagerState,
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
    :data:`MAX_AUTHORIZATIONS_PER_CALL` authorizations in all, so a server
    that keeps refusing cannot loop us.
    """
    s = m._resolve(ref)
    authorizations = 0
    refreshed_after_401 = False

    async def provider() -> str:
        return await refresh.get_token(m, s.config.id)

    async def authorize(
        challenged: tuple[str, ...], challenge: BearerChallenge | None, why: str,
        rediscover: bool = False,
    ) -> None:
        nonlocal authorizations
        if rediscover and not interactive:
            # No sign-in now, but look again: if the server moved to another
            # authorization server, the next sign-in must go there (SEP-2352).
            await servers.discover(m, s, challenge=challenge, force=True)
        if not interactive or authorizations >= MAX_AUTHORIZATIONS_PER_CALL:
            raise errors.SignInRequiredError(
                f"{s.config.name}: {why}. Sign in again."
            )
        authorizations += 1
        await sign_in.authorize(m, s, sign_in.Authorization(
            on_authorization_url=on_authorization_url, challenged=challenged,
            challenge=challenge, rediscover=rediscover,
        ))

    async def remember(learned: memory.McpMemory) -> None:
        await m._change_status(s, lambda st: st.remembering(learned))

    while True:
        try:
            await refresh.current_tokens(m, s)
        except errors.SignInRequiredError:
            await authorize((), None, "not signed in")
            continue
        client = make_mcp_client(m, s, provider)
        try:  # either era; the era and what the server said are remembered in s.status
            return await memory.call(client, method, params, s.status.mcp, remember)
        except errors.InsufficientScopeError as exc:
            granted = set(s.granted_scopes) | set(s.status.requested_scopes or ())
            wanted = tuple(sorted(granted | set(exc.scopes)))
            await authorize(
                wanted, exc.challenge, "more permissions are needed"
            )
        except errors.InvalidTokenError as exc:
            if not refreshed_after_401:
                refreshed_after_401 = True
                try:
                    await refresh.refresh(m, s, force=True, min_ttl=0.0)
                    continue
                except errors.SignInRequiredError:
                    pass
            # Tokens are kept: only invalid_grant proves the grant is gone.
            await refresh.mark_sign_in_needed(m,
                s, "the server refused the token after a refresh", key=None
            )
            # Discovery again first: the server may name another authorization server now.
            await authorize(
                (), exc.challenge, "the server refused the token", rediscover=True
            )
        finally:
            closer = getattr(client, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()
