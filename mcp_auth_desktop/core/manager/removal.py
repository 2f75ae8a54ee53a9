"""Removal of a server and of everything (tokens, registrations, settings, the vault)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.events import ServerRemoved
from mcp_auth_desktop.core.manager import revocation
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.registry import DISCOVERY, REGISTRATIONS, SERVERS, STATUS
from mcp_auth_desktop.core.revocation_text import registration_skip_reason
from mcp_auth_desktop.core.state import RevocationReport

log = logging.getLogger("mcp_auth_desktop.core.manager")


async def remove(m: ManagerState, ref: str) -> RevocationReport:
    """``ManagerLike.remove``: revocation first, the registration's deletion only for our own (DCR)."""
    s = m._resolve(ref)
    async with s.lock:
        report = (
            await revocation.revoke(m, s)
            if s.key()
            else RevocationReport(
                supported=bool(s.discovery and s.discovery.auth_server.revocation_endpoint),
                had_tokens=False,
            )
        )
        deleted: bool | None = None
        registration = (
            await m._registry.get_registration(s.config.id, s.discovery.auth_server.issuer)
            if s.discovery is not None
            else None
        )
        if registration is not None and registration.deletable:
            import httpx  # loaded with the HTTP client (runtime.make_http): not at start

            try:
                deleted = await m.oauth.delete_registration(registration)
            except (errors.McpAuthError, httpx.HTTPError) as exc:
                deleted = False
                log.info("could not delete the registration of %s: %s", s.config.name, exc)
                if isinstance(exc, errors.McpAuthError):  # the user reads why (issue 15 #2)
                    report = replace(report, errors=(*report.errors, exc.user_message))
        if deleted:
            # Deleting the client invalidates its grants: nothing left to revoke later.
            for item in await m._registry.pending_revocations():
                if item.server_id == s.config.id:
                    await m._registry.delete_pending_revocation(item.name)
                    m._revocation_next_try.pop(item.name, None)
        if s.discovery is not None:
            await m._registry.delete_registration(
                s.config.id, s.discovery.auth_server.issuer
            )
        # Credentials retired by an authorization server migration go too (finding 15.6).
        await revocation.settle_migrations(m, s)
        await m._registry.delete_server_secrets(s.config.id)
        await m._registry.drop_server(s.config.id)
    skipped = None if deleted is not None else registration_skip_reason(
        registration.method if registration else None,
        bool(registration and registration.registration_client_uri
             and registration.registration_access_token))
    report = replace(report, registration_deleted=deleted, registration_skipped=skipped)
    m._servers.pop(s.config.id, None)
    m._emit(
        ServerRemoved(s.config.id, m._clock.time(), name=s.config.name, report=report)
    )
    log.info("removed %s: %s", s.config.name, report.summary())
    return report


async def forget_everything(m: ManagerState, *, revoke: bool = True) -> list[tuple[str, str]]:
    """``ManagerLike.forget_everything``: each server as by :func:`remove`, then the stores."""
    outcome: list[tuple[str, str]] = []
    for s in list(m._servers.values()):
        name = s.config.name
        if revoke:
            try:
                outcome.append((name, (await remove(m, s.config.id)).summary()))
                continue
            except errors.McpAuthError as exc:
                outcome.append((name, f"not revoked: {exc.user_message}"))
        else:
            outcome.append((name, "forgotten here only (not revoked at the server)"))
        m._servers.pop(s.config.id, None)
        m._emit(ServerRemoved(s.config.id, m._clock.time(), name=name, report=None))

    def wipe(doc: dict[str, Any]) -> None:
        for section in (SERVERS, DISCOVERY, REGISTRATIONS, STATUS):
            doc.pop(section, None)

    await m._settings.update(wipe)
    await m._vault.forget_everything()
    m._revocation_next_try.clear()
    log.info("forgot everything (%d server(s))", len(outcome))
    return outcome
