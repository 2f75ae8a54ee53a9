"""Revocation at the server, its retries, and credentials left by an authorization server move."""

from __future__ import annotations

import logging
from dataclasses import replace

from mcp_auth_desktop.core import errors, migration
from mcp_auth_desktop.core.manager.record import (
    REVOCATION_RETRY_BASE,
    REVOCATION_RETRY_CAP,
    S,
    ServerRecord,
    revocation_incomplete,
)
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.models import ClientRegistration, Discovery, TokenSet
from mcp_auth_desktop.core.registry import PendingRevocation
from mcp_auth_desktop.core.server_status import ServerStatus
from mcp_auth_desktop.core.state import RevocationReport

log = logging.getLogger("mcp_auth_desktop.core.manager")


async def settle_migrations(m: ManagerState, s: ServerRecord) -> None:
    """Revoke and deregister at authorization servers this server moved away from."""
    for report in await migration.settle_server(
        m.oauth, m._vault, s.config.id,
        schedule=m._revocation_next_try, now=m._clock.time(),
    ):
        level = "info" if report.complete else "warning"
        m._migration_note(s, level, report.summary())


async def revoke(m: ManagerState, s: ServerRecord) -> RevocationReport:
    discovery = s.discovery
    key = s.key()
    supported = bool(discovery and discovery.auth_server.revocation_endpoint)
    if discovery is None or key is None:
        return RevocationReport(supported=supported, had_tokens=False)
    async with m._vault.lock(key.storage_name()):
        tokens = await m._registry.get_tokens(key)
        if tokens is None:
            return RevocationReport(supported=supported, had_tokens=False)
        registration = await m._registry.get_registration(
            s.config.id, discovery.auth_server.issuer
        )
        report = await revoke_at_server(m, discovery, registration, tokens)
        if report.client_unknown and not s.config.client_id:
            await m._change_status(s, ServerStatus.client_is_stale)
        # Local deletion happens whatever the server said.
        await m._registry.delete_tokens(key)
    s.forget_tokens()
    pending = registration is not None and revocation_incomplete(report, tokens)
    if pending and registration is not None:
        name = await m._registry.add_pending_revocation(
            s.config.id, s.config.name, discovery, registration, tokens
        )
        m._revocation_next_try[name] = m._clock.time() + REVOCATION_RETRY_BASE
        report = replace(report, will_retry=True)
        m._note(s, "warning", f"Revocation at {s.config.name} failed; it will be retried.")
        log.warning(
            "revocation at %s failed; will retry: %s", s.config.name, "; ".join(report.errors)
        )
    await m._change_status(s, lambda st: st.revoked_here(pending=pending))
    m._set_state(s, S.REVOKED)
    log.info("revoked %s: %s", s.config.name, report.summary())
    return report


async def revoke_at_server(
    m: ManagerState,
    discovery: Discovery, registration: ClientRegistration | None, tokens: TokenSet
) -> RevocationReport:
    supported = discovery.auth_server.revocation_endpoint is not None
    if not supported:
        return RevocationReport(supported=False)
    if registration is None:
        return RevocationReport(
            supported=True, errors=("the client registration is missing; revoked locally only",)
        )
    import httpx  # loaded with the HTTP client (runtime.make_http): not at start

    try:
        return await m.oauth.revoke(discovery, registration, tokens)
    except errors.McpAuthError as exc:
        return RevocationReport(supported=True, errors=(exc.user_message,))
    except httpx.HTTPError as exc:
        return RevocationReport(
            supported=True,
            errors=(f"could not reach the revocation endpoint ({type(exc).__name__})",),
        )


async def load_pending_schedule(m: ManagerState) -> None:
    now = m._clock.time()
    for item in await m._registry.pending_revocations():
        m._revocation_next_try.setdefault(item.name, now)
    for retired in await migration.retired_for(m._vault):
        if retired.due:
            m._revocation_next_try.setdefault(retired.name, now)


async def retry_pending(m: ManagerState, *, only_due: bool = False) -> list[RevocationReport]:
    """Retry revocations that failed earlier; successful ones are forgotten."""
    now = m._clock.time()
    if only_due and not any(t <= now for t in m._revocation_next_try.values()):
        return []
    reports: list[RevocationReport] = []
    for item in await m._registry.pending_revocations():
        when = m._revocation_next_try.get(item.name, now)
        if only_due and when > now:
            continue
        report = await revoke_at_server(m, item.discovery, item.registration, item.tokens)
        reports.append(report)
        if revocation_incomplete(report, item.tokens):
            await m._registry.bump_pending_revocation(item)
            delay = min(REVOCATION_RETRY_CAP, REVOCATION_RETRY_BASE * 2.0**item.attempts)
            m._revocation_next_try[item.name] = now + delay
            continue
        await finish_pending(m, item)
    # Credentials left at an authorization server a server moved away from (SEP-2352).
    for done in await migration.settle_due(m.oauth, m._vault, m._revocation_next_try, now):
        level = "info" if done.complete else "warning"
        m._emit(migration.MigrationNote(done.server_id, now, level=level, message=done.summary()))
    return reports


async def finish_pending(m: ManagerState, item: PendingRevocation) -> None:
    await m._registry.delete_pending_revocation(item.name)
    m._revocation_next_try.pop(item.name, None)
    s = m._servers.get(item.server_id)
    remaining = [
        p for p in await m._registry.pending_revocations() if p.server_id == item.server_id
    ]
    if s is not None and not remaining:
        await m._change_status(s, ServerStatus.revocation_completed)
    m._note(s, "info", f"Revocation at {item.server_name} completed.", item.server_id)
    log.info("pending revocation at %s completed", item.server_name)
