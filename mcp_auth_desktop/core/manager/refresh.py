"""Serving tokens and refreshing them: single flight in and across processes, backoff on failure."""

from __future__ import annotations

import asyncio
import logging

from mcp_auth_desktop.core import errors, stale_client
from mcp_auth_desktop.core.events import RefreshFailed, SignInNeeded, TokensRefreshed
from mcp_auth_desktop.core.manager import loading
from mcp_auth_desktop.core.manager.record import SERVE_LEEWAY, S, ServerRecord, fingerprint
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.models import CredentialKey, TokenSet
from mcp_auth_desktop.core.scheduler import backoff_delay
from mcp_auth_desktop.core.server_status import ServerStatus

log = logging.getLogger("mcp_auth_desktop.core.manager")


def margin_ttl(m: ManagerState, s: ServerRecord) -> float:
    if s.due_at is None or s.expires_at is None:
        return 0.0
    return max(0.0, s.expires_at - s.due_at)


async def get_token(m: ManagerState, ref: str, *, min_ttl: float = 60.0) -> str:
    """``ManagerLike.get_token``: a refresh fails over to the still-valid token when transient."""
    s = m._resolve(ref)
    tokens = await current_tokens(m, s)
    now = m._clock.time()
    lifetime = tokens.lifetime()
    if lifetime:
        # A server issuing 30-second tokens cannot satisfy min_ttl=60: asking
        # for more than half a lifetime would refresh a brand-new token every time.
        min_ttl = min(min_ttl, lifetime / 2.0)
    if tokens.expires_at is None or tokens.expires_at - now >= min_ttl:
        return tokens.access_token
    try:
        fresh = await refresh(m, s, force=False, min_ttl=min_ttl, seen=tokens)
    except errors.McpAuthError as exc:
        if exc.transient and not tokens.is_expired(m._clock.time(), SERVE_LEEWAY):
            return tokens.access_token
        raise
    return fresh.access_token


async def current_tokens(m: ManagerState, s: ServerRecord) -> TokenSet:
    key = s.key()
    tokens = await m._registry.get_tokens(key) if key else None
    if tokens is None:
        if key is not None and s.state is S.SIGNED_IN and s.busy == 0:
            await loading.derive_state(m, s)
        raise errors.SignInRequiredError(
            f"Not signed in to {s.config.name}: sign in first."
        )
    if fingerprint(tokens) != s.token_fp:
        loading.absorb(m, s, tokens)
    return tokens


def satisfied(
    m: ManagerState,
    current: TokenSet, seen_fp: str | None, *, force: bool, min_ttl: float
) -> bool:
    """Whether ``current`` already answers a refresh asked for after seeing ``seen_fp``."""
    now = m._clock.time()
    if seen_fp is not None and fingerprint(current) != seen_fp:
        # Someone (this process or another) refreshed after we looked.
        return not current.is_expired(now, SERVE_LEEWAY)
    if force:
        return False
    return current.expires_at is None or current.expires_at - now >= min_ttl


async def refresh(
    m: ManagerState,
    s: ServerRecord,
    *,
    force: bool,
    min_ttl: float,
    seen: TokenSet | None = None,
    seen_fp: str | None = None,
) -> TokenSet:
    key = s.key()
    if key is None:
        raise errors.SignInRequiredError(
            f"Not signed in to {s.config.name}: sign in first."
        )
    if seen is None and seen_fp is None:
        seen = await m._registry.get_tokens(key)
    fp = seen_fp if seen_fp is not None else fingerprint(seen)
    async with s.lock:  # single flight in this process
        current = await m._registry.get_tokens(key)
        if current is not None and satisfied(m, current, fp, force=force, min_ttl=min_ttl):
            loading.absorb(m, s, current)
            return current
        async with m._semaphore, m._vault.lock(key.storage_name()):
            # Re-read under the cross-process lock: another process may have rotated.
            current = await m._registry.get_tokens(key)
            if current is None:
                await tokens_gone(m, s)
                raise errors.SignInRequiredError(
                    f"Not signed in to {s.config.name}: sign in first."
                )
            if satisfied(m, current, fp, force=force, min_ttl=min_ttl):
                loading.absorb(m, s, current)
                if s.state in (S.ERROR, S.SIGN_IN_NEEDED, S.NEEDS_SIGN_IN, S.REVOKED):
                    m._set_state(s, S.SIGNED_IN)
                return current
            return await refresh_on_wire(m, s, key, current)


async def refresh_on_wire(
    m: ManagerState, s: ServerRecord, key: CredentialKey, current: TokenSet
) -> TokenSet:
    """The refresh request itself; the caller holds both locks."""
    discovery = s.discovery
    assert discovery is not None  # noqa: S101 - key() needs it
    if current.refresh_token is None:
        raise errors.SignInRequiredError(
            f"{s.config.name} gave no refresh token: sign in again when this token expires."
        )
    registration = await m._registry.get_registration(
        s.config.id, discovery.auth_server.issuer
    )
    if registration is None:
        await mark_sign_in_needed(m, s, "the client registration is missing", key=None)
        raise errors.SignInRequiredError(
            f"The client registration for {s.config.name} is missing: sign in again."
        )
    if s.state in (S.SIGNED_IN, S.ERROR):
        m._set_state(s, S.REFRESHING)
    now = m._clock.time()
    m.wire_refreshes += 1
    import httpx  # loaded with the HTTP client (runtime.make_http): not at start

    try:
        new = await m.oauth.refresh(
            discovery,
            registration,
            current,
            resource=m.oauth.resource_for(s.config, discovery),
        )
    except errors.InvalidGrantError as exc:
        # A loser of a race re-reads first: if a winner stored a new token, use it.
        again = await m._registry.get_tokens(key)
        if again is not None and fingerprint(again) != fingerprint(current):
            loading.absorb(m, s, again)
            if s.state is S.REFRESHING:
                m._set_state(s, S.SIGNED_IN)
            return again
        await m._registry.delete_tokens(key)
        s.forget_tokens()
        s.last_refresh_at, s.last_refresh_result = now, "sign-in needed"
        await mark_sign_in_needed(m, s, exc.user_message, key=None)
        raise errors.SignInRequiredError(
            f"The sign-in for {s.config.name} has expired or was revoked: sign in again."
        ) from exc
    except (
        errors.InvalidClientError,
        errors.UnauthorizedClientError,
        errors.SignInRequiredError,
    ) as exc:
        # The registration is unusable; keep the access token until it expires.
        s.last_refresh_at, s.last_refresh_result = now, "sign-in needed"
        s.due_at = None
        await mark_sign_in_needed(m, s, exc.user_message, key=None)
        await stale_client_seen(m, s, exc)
        raise
    except errors.McpAuthError as exc:
        if not stale_client.is_stale_client(exc):
            refresh_failed(m, s, exc, now)
            raise
        # e.g. invalid_request "Client ID not found": as invalid_client above.
        s.last_refresh_at, s.last_refresh_result, s.due_at = now, "sign-in needed", None
        await mark_sign_in_needed(m, s, exc.user_message, key=None)
        await stale_client_seen(m, s, exc)
        raise
    except httpx.HTTPError as exc:  # should be wrapped by the flow; be safe anyway
        wrapped = errors.NetworkError(
            f"Could not reach the token endpoint ({type(exc).__name__})."
        )
        refresh_failed(m, s, wrapped, now)
        raise wrapped from exc
    except asyncio.CancelledError:
        if s.state is S.REFRESHING:
            m._set_state(s, S.SIGNED_IN)
        raise
    except Exception as exc:
        # A bug below us must not wedge the server in REFRESHING: record it as a
        # failed refresh so the loop retries with backoff and the user sees it.
        log.error("refresh of %s failed unexpectedly: %s", s.config.name, type(exc).__name__)
        unexpected = errors.McpAuthError(
            f"Refreshing {s.config.name} failed unexpectedly ({type(exc).__name__})."
        )
        refresh_failed(m, s, unexpected, now)
        raise unexpected from exc
    merged = current.with_refresh(new)
    await m._registry.put_tokens(key, merged)
    rotated = merged.refresh_token != current.refresh_token
    s.failures = 0
    s.last_error = None
    s.last_refresh_at, s.last_refresh_result = now, "ok"
    m._records.record(s.config.id, now, "ok")
    s.token_fp = None
    loading.absorb(m, s, merged)
    if s.state in (S.REFRESHING, S.ERROR, S.SIGN_IN_NEEDED, S.NEEDS_SIGN_IN, S.NEW):
        m._set_state(s, S.SIGNED_IN)
    m._emit(TokensRefreshed(s.config.id, now, expires_at=merged.expires_at, rotated=rotated))
    log.debug("refreshed %s (rotated=%s)", s.config.name, rotated)
    return merged


async def stale_client_seen(m: ManagerState, s: ServerRecord, exc: errors.McpAuthError) -> None:
    """The AS forgot our client: the next sign-in registers again (told to the user then)."""
    if not stale_client.is_stale_client(exc) or s.config.client_id:
        return  # a client the user entered is theirs to fix, never replaced
    await m._change_status(s, ServerStatus.client_is_stale)
    raise errors.StaleClientError(
        f"{exc.user_message}. The authorization server of {s.config.name} no longer knows "
        "this app; the next sign-in registers it again."
    ) from exc


def refresh_failed(m: ManagerState, s: ServerRecord, exc: errors.McpAuthError, now: float) -> None:
    s.failures += 1
    if s.failures == 1:
        s.failing_since = now
    retry_after = getattr(exc, "retry_after", None)
    delay = backoff_delay(s.failures, retry_after=retry_after, rng=m._rng)
    s.due_at = now + delay
    s.last_refresh_at = now
    s.last_refresh_result = "will retry" if exc.transient else "failed"
    m._records.record(s.config.id, now, s.last_refresh_result)
    s.last_error = exc.user_message
    if s.state is S.REFRESHING:
        m._set_state(s, S.SIGNED_IN if exc.transient else S.ERROR)
    m._emit(
        RefreshFailed(
            s.config.id, now, reason=exc.user_message, transient=exc.transient, retry_in=delay
        )
    )
    log.info(
        "refresh of %s failed (%s); retry in %.0f s: %s",
        s.config.name,
        "transient" if exc.transient else "permanent",
        delay,
        exc.user_message,
    )
    m._wake.set()


async def mark_sign_in_needed(
    m: ManagerState,
    s: ServerRecord, reason: str, *, key: CredentialKey | None
) -> None:
    if key is not None:
        await m._registry.delete_tokens(key)
        s.forget_tokens()
    s.last_error = reason
    s.due_at = None
    await m._change_status(s, lambda st: st.needs_sign_in(reason))
    if s.state is S.SIGN_IN_NEEDED:
        return
    m._set_state(s, S.SIGN_IN_NEEDED)
    m._emit(SignInNeeded(s.config.id, m._clock.time(), reason=reason))
    log.warning("sign-in needed for %s: %s", s.config.name, reason)


async def tokens_gone(m: ManagerState, s: ServerRecord) -> None:
    s.forget_tokens()
    s.status = (await m._registry.load()).status.get(s.config.id, ServerStatus())
    if s.state in (S.SIGNED_IN, S.REFRESHING, S.ERROR):
        m._set_state(s, S.REVOKED if s.status.revoked else S.SIGN_IN_NEEDED)
