"""Sign-in and step-up: one browser authorization, with challenged scopes when a server asks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from mcp_auth_desktop.core import errors, signin_lock, stale_client
from mcp_auth_desktop.core.manager import loading, revocation, servers
from mcp_auth_desktop.core.manager.record import S, ServerRecord
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.models import TokenSet
from mcp_auth_desktop.core.registry import PublicRegistration
from mcp_auth_desktop.core.server_status import ServerStatus
from mcp_auth_desktop.core.www_authenticate import BearerChallenge

log = logging.getLogger("mcp_auth_desktop.core.manager")


@dataclass(frozen=True)
class Authorization:
    """What one sign-in or step-up asks for: from the Sign in action or a refused MCP call."""

    #: Shows the authorization URL (the GUI's link, a device-code display); None: the browser.
    on_authorization_url: Callable[[str], None] | None = None
    #: Scopes the server asked for (step-up), requested with those already granted.
    challenged: tuple[str, ...] = ()
    #: The server's ``WWW-Authenticate`` challenge, for discovery (its resource metadata URL).
    challenge: BearerChallenge | None = None
    #: Look for the authorization server again first: the server may name another one now.
    rediscover: bool = False
    #: Register the client again first (the authorization server forgot this app).
    re_register: bool = False


async def authorize(m: ManagerState, s: ServerRecord, request: Authorization) -> None:
    """The one entry to a sign-in or a step-up (``challenged`` scopes): one at a time per server.

    Both the user's "Sign in" (with the scopes a server asked for) and an MCP call
    refused for its token or its scopes come here.
    """
    async with s.sign_in_lock:
        await sign_in(m, s, request)


async def sign_in(m: ManagerState, s: ServerRecord, request: Authorization) -> None:
    """One sign-in per server across processes (core/signin_lock.py): wait, then join or sign in."""
    asked = m._clock.time()
    note = signin_lock.waiting_message(s.config.name)
    async with signin_lock.hold(m._vault, s.config.id, on_wait=lambda: m._note(s, "warning", note)):
        if not request.re_register and await joined_sign_in(m, s, asked, request.challenged):
            return
        await sign_in_here(m, s, request)


async def joined_sign_in(
    m: ManagerState, s: ServerRecord, asked: float, wanted: tuple[str, ...]
) -> bool:
    """Another process stored a sign-in for s since ``asked``: take it instead of a second one."""
    snap = await m._registry.load()
    s.discovery = snap.discovery.get(s.config.id, s.discovery)
    s.registration = snap.registrations.get(s.config.id, s.registration)
    key = s.key()
    tokens = await m._registry.get_tokens(key) if key is not None else None
    if tokens is None or not signin_lock.covers(tokens, asked, wanted):
        return False
    s.status = snap.status.get(s.config.id, ServerStatus())
    take_sign_in(m, s, tokens, f"Signed in to {s.config.name} (by another process; joined it).")
    return True


def take_sign_in(m: ManagerState, s: ServerRecord, tokens: TokenSet, note: str) -> None:
    """The record takes a stored sign-in: earlier failures forgotten, refresh scheduled."""
    s.last_error = None
    s.failures = 0
    s.token_fp = None
    loading.absorb(m, s, tokens)
    m._set_state(s, S.SIGNED_IN)
    m._note(s, "info", note)
    m._wake.set()


async def sign_in_here(m: ManagerState, s: ServerRecord, request: Authorization) -> None:
    if s.discovery is None or request.rediscover:
        await servers.discover(m, s, challenge=request.challenge, force=request.rediscover)
    discovery = s.discovery
    assert discovery is not None  # noqa: S101 - _discover sets it or raises
    async with s.lock:
        pass  # let an in-flight refresh finish before the state says "signing in"
    previous = s.state
    old_key = s.key()
    s.busy += 1
    m._set_state(s, S.SIGNING_IN)
    try:
        registration = (
            await m._registry.get_registration(s.config.id, discovery.auth_server.issuer)
            if s.registration is not None
            else None
        )
        secret = await m._registry.get_client_secret(s.config.id)
        previous_scopes = s.status.requested_scopes or s.granted_scopes
        if s.status.scopes_edited:
            # The user chose new scopes since (editing.py): ask for those, not more.
            previous_scopes = s.config.scopes
        scopes = m.oauth.select_scopes(
            s.config, discovery, previous=previous_scopes, challenged=request.challenged
        )
        if s.status.stale_client and registration is not None:
            request = replace(request, re_register=True)
            m._note(s, "warning", stale_client.reregistering_message(s.config.name))
        registration, tokens = await m.oauth.sign_in(
            s.config,
            discovery,
            registration,
            scopes=scopes,
            client_secret=secret,
            on_authorization_url=request.on_authorization_url,
            re_register=request.re_register,
        )
    except BaseException as exc:
        # Whatever went wrong (a bug below us included), the server must not
        # stay in SIGNING_IN: the loop and the buttons key off the state.
        if isinstance(exc, errors.McpAuthError):
            s.last_error = exc.user_message
            log.info("sign-in failed for %s: %s", s.config.name, exc.user_message)
        elif isinstance(exc, Exception):
            s.last_error = f"Sign-in failed unexpectedly ({type(exc).__name__})."
            log.error("sign-in for %s failed unexpectedly: %s", s.config.name, type(exc).__name__)
        back = previous if previous is not S.DISCOVERING else S.NEEDS_SIGN_IN
        m._set_state(s, back)
        if isinstance(exc, errors.StaleClientError) and not s.config.client_id:
            await m._change_status(s, ServerStatus.client_is_stale)
        raise
    finally:
        s.busy -= 1
    await m._registry.put_registration(s.config.id, registration)
    s.registration = await public_registration(m, s)
    key = s.key()
    assert key is not None  # noqa: S101 - discovery and registration are set
    await m._registry.put_tokens(key, tokens)
    if old_key is not None and old_key != key:
        await m._registry.delete_tokens(old_key)
    await m._change_status(s, lambda st: st.signed_in(scopes))
    take_sign_in(m, s, tokens, f"Signed in to {s.config.name}.")
    log.info("signed in to %s", s.config.name)
    await revocation.settle_migrations(m, s)


async def public_registration(m: ManagerState, s: ServerRecord) -> PublicRegistration | None:
    snap = await m._registry.load()
    return snap.registrations.get(s.config.id)

