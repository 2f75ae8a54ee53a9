"""Loading and reconciling: the records follow the settings document and the vault."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from mcp_auth_desktop.core import errors, settings_seal
from mcp_auth_desktop.core.events import ServerAdded, ServerRemoved, ServerUpdated
from mcp_auth_desktop.core.identity import Identity
from mcp_auth_desktop.core.manager import views
from mcp_auth_desktop.core.manager.record import S, ServerRecord, fingerprint
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.models import TokenSet
from mcp_auth_desktop.core.ports import JsonObject
from mcp_auth_desktop.core.registry import snapshot_from_document
from mcp_auth_desktop.core.scheduler import refresh_due_at
from mcp_auth_desktop.core.server_status import ServerStatus

log = logging.getLogger("mcp_auth_desktop.core.manager")


async def reconcile(m: ManagerState, doc: JsonObject) -> None:
    """Bring the in-memory registry in line with the settings document.

    Called at start and whenever another process (the CLI, a second GUI)
    changed the document. Servers busy signing in or refreshing here keep
    their state; the others are re-derived from what storage holds.
    """
    snap = snapshot_from_document(doc)
    # Values that decide where secrets go come from the vault (issue 15 #7).
    snap.servers = await settings_seal.apply(
        snap.servers, snap.discovery, m._vault,
        lambda sid, msg: m._note(None, "warning", msg, server_id=sid),
    )
    seen: set[str] = set()
    for config in snap.servers:
        seen.add(config.id)
        s = m._servers.get(config.id)
        is_new = s is None
        if s is None:
            s = ServerRecord(config=config)
            m._servers[config.id] = s
        before = None if is_new else views.view(s)
        s.config = config
        s.discovery = snap.discovery.get(config.id, s.discovery if not is_new else None)
        s.registration = snap.registrations.get(config.id)
        s.status = snap.status.get(config.id, ServerStatus())
        if is_new and m._loaded:
            m._emit(ServerAdded(config.id, m._clock.time(), name=config.name))
        if s.busy == 0 and not s.lock.locked():
            await derive_state(m, s)
        if before is not None and views.view(s) != before:
            m._emit(ServerUpdated(config.id, m._clock.time()))
    m._loaded = True
    for sid in [sid for sid in m._servers if sid not in seen]:
        if m._servers[sid].lock.locked() or m._servers[sid].busy:
            continue  # being added or removed by this process, which emits the event
        gone = m._servers.pop(sid)
        m._emit(ServerRemoved(sid, m._clock.time(), name=gone.config.name))
    m._wake.set()


async def derive_state(m: ManagerState, s: ServerRecord) -> None:
    """Work out a server's state from storage (after a restart or another process's change)."""
    if s.discovery is None:
        # Discovery ran and failed (its cause is stored): say so, also after a restart
        # or in another process, rather than "new" as if it had never run.
        target = S.ERROR if s.status.last_error else S.NEW
        if s.state in (S.NEW, S.ERROR):
            m._set_state(s, target)
        return
    key = s.key()
    tokens = await m._registry.get_tokens(key) if key else None
    if tokens is not None:
        absorb(m, s, tokens)
        usable = tokens.refresh_token is not None or not tokens.is_expired(m._clock.time())
        if s.status.sign_in_needed or not usable:
            s.due_at = None
            m._set_state(s, S.SIGN_IN_NEEDED)
        elif s.state not in (S.ERROR, S.SIGNED_IN):
            m._set_state(s, S.SIGNED_IN)
        return
    s.forget_tokens()
    if s.status.sign_in_needed:
        target = S.SIGN_IN_NEEDED
    elif s.status.revoked:
        target = S.REVOKED
    else:
        target = S.NEEDS_SIGN_IN
    if s.state is S.REFRESHING:
        return
    if s.state is S.SIGNED_IN and target is S.NEEDS_SIGN_IN:
        # Tokens vanished under us: another process removed them.
        target = S.SIGN_IN_NEEDED
    m._set_state(s, target)


def absorb(m: ManagerState, s: ServerRecord, tokens: TokenSet) -> None:
    """Take the non-secret facts of a token set and schedule its refresh."""
    fp = fingerprint(tokens)
    if fp != s.token_fp or s.due_at is None:
        before = s.due_at
        s.due_at = (
            refresh_due_at(tokens.issued_at, tokens.expires_at, rng=m._rng)
            if tokens.refresh_token is not None
            else None
        )
        if s.due_at is not None and (before is None or s.due_at < before):
            # The loop may be asleep until a later time (or for the full check
            # interval): a short-lived token from a refresh it did not run itself
            # (a button, get_token, another process) must not be refreshed late.
            m._wake.set()
    s.token_fp = fp
    s.expires_at = tokens.expires_at
    s.issued_at = tokens.issued_at
    s.granted_scopes = tokens.scope
    s.has_refresh_token = tokens.refresh_token is not None
    s.identity = Identity.from_dict(tokens.identity)


async def watch_settings(m: ManagerState) -> None:
    agen = m._settings.watch().__aiter__()
    pending: asyncio.Future[JsonObject] = asyncio.ensure_future(agen.__anext__())
    try:
        # Let the watcher note the current version, then catch up on any change
        # made between start() and now, which it would otherwise never report.
        await asyncio.sleep(0)
        await reconcile(m, await m._settings.load())
        while True:
            await pending
            pending = asyncio.ensure_future(agen.__anext__())
            try:
                # Re-read rather than trust the notified copy: a poller may hand
                # over a document older than a write this process just made.
                await reconcile(m, await m._settings.load())
            except errors.McpAuthError as exc:
                log.info("could not apply a settings change: %s", exc)
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        closer = getattr(agen, "aclose", None)
        if closer is not None:
            with contextlib.suppress(BaseException):
                await closer()
