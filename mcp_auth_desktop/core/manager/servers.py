"""The registry of servers: add, name, options, discovery of the authorization server."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from typing import Unpack

from mcp_auth_desktop.core import errors, migration
from mcp_auth_desktop.core.events import ServerAdded
from mcp_auth_desktop.core.manager import views
from mcp_auth_desktop.core.manager.record import (
    S,
    ServerRecord,
    default_name,
    normalize_server_url,
    same_url,
)
from mcp_auth_desktop.core.manager.shared import ManagerState
from mcp_auth_desktop.core.models import Discovery, ServerConfig, ServerOptions
from mcp_auth_desktop.core.ports import NewServer
from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.core.www_authenticate import BearerChallenge

log = logging.getLogger("mcp_auth_desktop.core.manager")


async def add_server(m: ManagerState, url: str, **settings: Unpack[NewServer]) -> ServerView:
    """``ManagerLike.add_server`` (core/ports.py): the settings' defaults are applied here."""
    name, client_id = settings.get("name"), settings.get("client_id")
    client_secret = settings.get("client_secret")
    options = settings.get("options", ServerOptions())
    canonical = normalize_server_url(url, options)
    for s in m._servers.values():
        if same_url(s.config.url, canonical):
            raise errors.DuplicateServerError(
                f"{canonical} is already added as {s.config.name!r}."
            )
    chosen = (name or "").strip() or unique_name(m, default_name(canonical))
    check_name_free(m, chosen)
    if client_secret is not None and not client_id:
        raise errors.ConfigurationError("A client secret needs a client id: give both, or neither.")
    method = settings.get("client_auth_method")
    if client_id and method is None:
        method = "client_secret_basic" if client_secret else "none"
    config = ServerConfig(
        id=secrets.token_hex(6),  # 12 random hex digits, as uuid4().hex[:12] gave (no uuid module)
        name=chosen,
        url=canonical,
        scopes=tuple(settings.get("scopes", ())),
        client_id=client_id or None,
        client_auth_method=method if client_id else None,
        options=options,
        added_at=m._clock.time(),
    )
    discovery = await m.oauth.discover(config) if settings.get("discover", True) else None
    # In the registry before the settings write, so a settings watch that
    # fires in between finds it and does not announce it a second time.
    s = ServerRecord(config=config, busy=1, discovery=discovery)
    m._servers[config.id] = s
    try:
        if client_secret:
            await m._registry.put_client_secret(config.id, client_secret)
        await m._registry.put_server(config)
        if discovery is not None:
            await m._registry.put_discovery(config.id, discovery)
            s.state = S.NEEDS_SIGN_IN
    except BaseException:
        m._servers.pop(config.id, None)
        raise
    finally:
        s.busy -= 1
    m._emit(ServerAdded(config.id, m._clock.time(), name=config.name))
    log.info("added server %s (%s)", config.name, config.url)
    return views.view(s)


def unique_name(m: ManagerState, base: str) -> str:
    taken = {s.config.name.lower() for s in m._servers.values()}
    if base.lower() not in taken:
        return base
    n = 2
    while f"{base}-{n}".lower() in taken:
        n += 1
    return f"{base}-{n}"


def check_name_free(m: ManagerState, name: str, except_id: str | None = None) -> None:
    if not name or any(c in name for c in "\r\n\t"):
        raise errors.ConfigurationError("A server name must be non-empty, on one line.")
    for s in m._servers.values():
        if s.config.id != except_id and s.config.name.lower() == name.lower():
            raise errors.DuplicateServerError(f"A server is already named {name!r}.")


async def rename(m: ManagerState, ref: str, name: str) -> ServerView:
    s = m._resolve(ref)
    new = name.strip()
    check_name_free(m, new, except_id=s.config.id)
    # Storage first, then memory: a reconcile in between must not undo the change.
    config = replace(s.config, name=new)
    await m._registry.put_server(config)
    s.config = config
    return views.view(s)


async def update_options(m: ManagerState, ref: str, options: ServerOptions) -> ServerView:
    """Change a server's advanced options (resource override, callback port…)."""
    s = m._resolve(ref)
    config = replace(s.config, options=options)
    await m._registry.put_server(config)
    s.config = config
    return views.view(s)


async def discover(
    m: ManagerState,
    s: ServerRecord, *, challenge: BearerChallenge | None = None, force: bool = False
) -> Discovery:
    if s.discovery is not None and not force and challenge is None:
        return s.discovery
    previous = s.state
    s.busy += 1
    m._set_state(s, S.DISCOVERING)
    try:
        discovery = await m.oauth.discover(s.config, challenge=challenge)
    except errors.McpAuthError as exc:
        reason = s.last_error = exc.user_message
        await m._change_status(s, lambda st: st.with_last_error(reason))
        m._set_state(s, S.ERROR if s.discovery is None else previous)
        log.info("discovery failed for %s: %s", s.config.name, exc.user_message)
        raise
    finally:
        s.busy -= 1
    old = s.discovery
    if old is not None and old.auth_server.issuer != discovery.auth_server.issuer:
        # A new authorization server (SEP-2352): the old registration and tokens mean
        # nothing there. Retired, not forgotten: revoked and deleted after the next sign-in.
        await migration.retire_server(
            m._registry, m._vault, server_id=s.config.id, server_name=s.config.name,
            old=old, public_registration=s.registration,
        )
        s.registration = None
        s.forget_tokens()
        m._migration_note(s, "warning", (
            f"{s.config.name} now uses the authorization server "
            f"{discovery.auth_server.issuer} instead of {old.auth_server.issuer}: sign in "
            "there; the old sign-in will then be revoked and the old registration deleted."))
    s.discovery = discovery
    s.last_error = None
    await m._registry.put_discovery(s.config.id, discovery)
    await m._change_status(s, lambda st: st.with_last_error(None))
    if previous in (S.NEW, S.ERROR, S.DISCOVERING):
        m._set_state(s, S.NEEDS_SIGN_IN)
    elif s.key() is None and previous is S.SIGNED_IN:
        m._set_state(s, S.NEEDS_SIGN_IN)
    else:
        m._set_state(s, previous)
    return discovery
