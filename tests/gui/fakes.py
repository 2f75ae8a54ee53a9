"""A fast, in-memory stand-in for the manager as the GUI sees it (``ManagerLike``, core/ports.py).

It follows the contract's state machine and publishes the same events, so
widget tests run in milliseconds. Tests against the real manager and a real
mock server live in test_real_manager.py; this fake is for breadth, not truth.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mcp_auth_desktop.core import edit_merge, server_edit
from mcp_auth_desktop.core import events as core_events
from mcp_auth_desktop.core import state as core_state
from mcp_auth_desktop.core.device_grant import DeviceAuthorization
from mcp_auth_desktop.core.device_signin import DeviceSignIn
from mcp_auth_desktop.core.errors import (
    DuplicateServerError,
    InsecureUrlError,
    InvalidGrantError,
    McpAuthError,
    ServerNotFoundError,
    SignInRequiredError,
)
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.core.ports import ManagerLike, StorageLocation


@dataclass
class _Entry:
    view: core_state.ServerView
    access_token: str | None = None
    refresh_token: str | None = None
    config: ServerConfig | None = None
    client_secret: str | None = field(default=None, repr=False)


@dataclass
class FakeManager:
    """Contract-shaped fake. ``delay`` is how long each network step takes."""

    delay: float = 0.0
    token_ttl: float = 3600.0
    revocation_supported: bool = True
    fail_refresh: dict[str, McpAuthError] = field(default_factory=dict)
    fail_sign_in: dict[str, McpAuthError] = field(default_factory=dict)
    fail_call: dict[str, McpAuthError] = field(default_factory=dict)
    tools: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"name": "echo", "description": "Repeats what you say"},
            {"name": "add", "description": "Adds two numbers"},
        ]
    )
    calls: list[tuple[str, str]] = field(default_factory=list)
    revoked_tokens: list[str] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._subs: list[Callable[[core_state.ManagerEvent], None]] = []
        self._ids = itertools.count(1)

    # --- helpers for tests ------------------------------------------------------

    def seed(self, count: int, *, state: core_state.ServerState = core_state.ServerState.SIGNED_IN,
             ttl: float | None = None) -> list[str]:
        """Add ``count`` servers at once, without events (a loaded settings file)."""
        ids = []
        now = time.time()
        for _ in range(count):
            n = next(self._ids)
            sid = f"srv{n:04d}"
            signed = state in (core_state.ServerState.SIGNED_IN, core_state.ServerState.REFRESHING)
            view = core_state.ServerView(
                id=sid, name=f"Server {n}", url=f"https://mcp{n}.example.com/mcp", state=state,
                issuer=f"https://auth{n}.example.com", resource=f"https://mcp{n}.example.com/mcp",
                registration_method="dcr", client_id=f"client-{n}",
                redirect_uri="http://127.0.0.1:53682/callback",
                requested_scopes=("mcp:read", "mcp:write"),
                granted_scopes=("mcp:read", "mcp:write") if signed else (),
                expires_at=now + (ttl if ttl is not None else self.token_ttl) if signed else None,
                has_refresh_token=signed, revocation_supported=self.revocation_supported,
                discovery_trail=("GET /.well-known/oauth-protected-resource: 200",),
            )
            self._entries[sid] = _Entry(
                view,
                access_token=f"at-{secrets.token_hex(24)}" if signed else None,
                refresh_token=f"rt-{secrets.token_hex(8)}" if signed else None,
            )
            ids.append(sid)
        return ids

    def token_of(self, ref: str) -> str | None:
        return self._entries[self.get(ref).id].access_token

    def set_state(self, ref: str, state: core_state.ServerState, **changes: Any) -> None:
        e = self._entries[self.get(ref).id]
        self._set(e, state, **changes)

    def emit(self, event: core_state.ManagerEvent) -> None:
        for cb in list(self._subs):
            cb(event)

    # --- contract -----------------------------------------------------------------

    async def start(self, *, background: bool = True) -> None:
        return None

    async def aclose(self) -> None:
        self.closed = True

    def servers(self) -> list[core_state.ServerView]:
        return [e.view for e in self._entries.values()]

    def get(self, ref: str) -> core_state.ServerView:
        for e in self._entries.values():
            if ref in (e.view.id, e.view.name, e.view.url):
                return e.view
        raise ServerNotFoundError(f"No server called {ref!r}.")

    def subscribe(self, callback: Callable[[core_state.ManagerEvent], None]) -> Callable[[], None]:
        self._subs.append(callback)
        return lambda: self._subs.remove(callback) if callback in self._subs else None

    @property
    def storage_location(self) -> StorageLocation:
        return StorageLocation(key_source="memory", backend="memory", vault_path=None)

    async def add_server(self, url: str, *, name: str | None = None, client_id: str | None = None,
                         client_secret: str | None = None, client_auth_method: str | None = None,
                         scopes: tuple[str, ...] = (), options: ServerOptions = ServerOptions(),
                         discover: bool = True) -> core_state.ServerView:
        self.calls.append(("add", url))
        if url.startswith("http://") and not options.allow_insecure_loopback:
            raise InsecureUrlError("Plain http is only allowed for loopback servers you allow.")
        if any(e.view.url == url for e in self._entries.values()):
            raise DuplicateServerError(f"{url} is already in your list.")
        n = next(self._ids)
        sid = f"srv{n:04d}"
        view = core_state.ServerView(id=sid, name=name or url.split("//")[1].split("/")[0], url=url,
                          state=core_state.ServerState.NEW, requested_scopes=scopes, client_id=client_id,
                          registration_method="preregistered" if client_id else None)
        entry = _Entry(view, config=ServerConfig(
            id=sid, name=view.name, url=url, scopes=scopes, client_id=client_id,
            client_auth_method=client_auth_method, options=options), client_secret=client_secret)
        self._entries[sid] = entry
        self.emit(core_events.ServerAdded(sid, time.time(), view.name))
        if discover:
            self._set(entry, core_state.ServerState.DISCOVERING)
            await asyncio.sleep(self.delay)
            self._set(entry, core_state.ServerState.NEEDS_SIGN_IN, issuer="https://auth.example.com",
                      resource=url, revocation_supported=self.revocation_supported,
                      discovery_trail=(f"GET {url}: 401", "PRM: ok", "AS metadata: ok"))
        return entry.view

    async def rename(self, ref: str, name: str) -> core_state.ServerView:
        e = self._entries[self.get(ref).id]
        e.view = replace(e.view, name=name)
        return e.view

    async def sign_in(self, ref: str, *,
                      on_authorization_url: Callable[[str], None] | None = None,
                      scopes: tuple[str, ...] = (), re_register: bool = False) -> core_state.ServerView:
        e = self._entries[self.get(ref).id]
        self.calls.append(("sign_in_re_register" if re_register else "sign_in", e.view.id))
        previous = e.view.state
        self._set(e, core_state.ServerState.SIGNING_IN)
        try:
            if isinstance(on_authorization_url, DeviceSignIn):
                # A sign-in with a code (RFC 8628): shown once, then one wait before the answer.
                on_authorization_url.show(DeviceAuthorization(
                    device_code=secrets.token_hex(8), user_code="BCDF-GHJK",
                    verification_uri="https://auth.example.com/device",
                    verification_uri_complete="https://auth.example.com/device?user_code=BCDF-GHJK",
                    expires_in=600, interval=5, received_at=time.monotonic()))
                await on_authorization_url.sleep(self.delay)
            elif on_authorization_url is not None:
                on_authorization_url(f"https://auth.example.com/authorize?client_id=c&state={secrets.token_hex(4)}")
            await asyncio.sleep(self.delay)
            if e.view.id in self.fail_sign_in:
                raise self.fail_sign_in[e.view.id]
        except BaseException:
            self._set(e, previous if previous is not core_state.ServerState.SIGNING_IN else core_state.ServerState.NEEDS_SIGN_IN)
            raise
        e.access_token = f"at-{secrets.token_hex(24)}"
        e.refresh_token = f"rt-{secrets.token_hex(8)}"
        now = time.time()
        self._set(e, core_state.ServerState.SIGNED_IN, expires_at=now + self.token_ttl, has_refresh_token=True,
                  granted_scopes=e.view.requested_scopes or ("mcp:read",),
                  client_id=e.view.client_id or "dcr-client-1",
                  registration_method=e.view.registration_method or "dcr",
                  redirect_uri="http://127.0.0.1:40123/callback", last_error=None)
        return e.view

    async def refresh(self, ref: str, *, force: bool = True) -> core_state.ServerView:
        e = self._entries[self.get(ref).id]
        self.calls.append(("refresh", e.view.id))
        if e.refresh_token is None:
            raise SignInRequiredError(f"Sign in to {e.view.name} first.")
        self._set(e, core_state.ServerState.REFRESHING)
        await asyncio.sleep(self.delay)
        now = time.time()
        err = self.fail_refresh.get(e.view.id)
        if err is not None:
            if isinstance(err, InvalidGrantError):
                e.access_token = e.refresh_token = None
                self._set(e, core_state.ServerState.SIGN_IN_NEEDED, has_refresh_token=False, expires_at=None,
                          last_refresh_at=now, last_refresh_result="failed: sign-in needed",
                          last_error=err.user_message)
                self.emit(core_events.SignInNeeded(e.view.id, now, err.user_message))
            else:
                self._set(e, core_state.ServerState.SIGNED_IN, last_refresh_at=now,
                          last_refresh_result="failed, will retry", last_error=err.user_message)
                self.emit(core_events.RefreshFailed(e.view.id, now, err.user_message, err.transient, 30.0))
            raise err
        e.access_token = f"at-{secrets.token_hex(24)}"
        self._set(e, core_state.ServerState.SIGNED_IN, expires_at=now + self.token_ttl, last_refresh_at=now,
                  last_refresh_result="ok", last_error=None)
        self.emit(core_events.TokensRefreshed(e.view.id, now, now + self.token_ttl, rotated=True))
        return e.view

    async def get_token(self, ref: str, *, min_ttl: float = 60.0) -> str:
        e = self._entries[self.get(ref).id]
        self.calls.append(("get_token", e.view.id))
        if e.access_token is None:
            raise SignInRequiredError(f"Sign in to {e.view.name} first.")
        if e.view.expires_at is not None and e.view.expires_at - time.time() < min_ttl:
            await self.refresh(ref)
        assert e.access_token is not None
        return e.access_token

    async def revoke(self, ref: str) -> core_state.RevocationReport:
        e = self._entries[self.get(ref).id]
        self.calls.append(("revoke", e.view.id))
        await asyncio.sleep(self.delay)
        had = e.access_token is not None
        for t in (e.refresh_token, e.access_token):
            if t and self.revocation_supported:
                self.revoked_tokens.append(t)
        e.access_token = e.refresh_token = None
        self._set(e, core_state.ServerState.REVOKED, expires_at=None, has_refresh_token=False, granted_scopes=())
        if not self.revocation_supported:
            return core_state.RevocationReport(supported=False)
        return core_state.RevocationReport(supported=True, refresh_token_revoked=had, access_token_revoked=had)

    async def remove(self, ref: str) -> core_state.RevocationReport:
        view = self.get(ref)
        report = await self.revoke(ref)
        report = replace(report, registration_deleted=True if report.supported else None)
        del self._entries[view.id]
        self.calls.append(("remove", view.id))
        self.emit(core_events.ServerRemoved(view.id, time.time(), view.name, report))
        return report

    async def forget_everything(self, *, revoke: bool = True) -> list[tuple[str, str]]:
        """Every server goes (revoked first when asked); (name, outcome) pairs, as the contract."""
        self.calls.append(("forget_everything", str(revoke)))
        names = {i: e.view.name for i, e in self._entries.items()}
        if revoke:
            return [(names[i], (await self.remove(i)).summary()) for i in names]
        self._entries.clear()
        for i, name in names.items():
            self.emit(core_events.ServerRemoved(i, time.time(), name, None))
        return [(name, "forgotten here only (not revoked at the server)") for name in names.values()]

    async def call(self, ref: str, method: str, params: dict[str, Any] | None = None) -> Any:
        e = self._entries[self.get(ref).id]
        self.calls.append(("call:" + method, e.view.id))
        await asyncio.sleep(self.delay)
        if e.access_token is None:
            raise SignInRequiredError(f"Sign in to {e.view.name} first.")
        if e.view.id in self.fail_call:
            raise self.fail_call[e.view.id]
        if method == "tools/list":
            return {"tools": list(self.tools)}
        return {}

    def server_config(self, ref: str) -> ServerConfig:
        e = self._entries[self.get(ref).id]
        return replace(e.config or ServerConfig(id=e.view.id, name=e.view.name, url=e.view.url,
                                                 scopes=e.view.requested_scopes),
                       name=e.view.name)

    async def has_client_secret(self, ref: str) -> bool:
        return self._entries[self.get(ref).id].client_secret is not None

    async def edit_server(self, ref: str, edit: server_edit.ServerEdit) -> server_edit.EditOutcome:
        """The core's rules (core/server_edit.py) over the fake's own record."""
        e = self._entries[self.get(ref).id]
        self.calls.append(("edit", e.view.id))
        old = self.server_config(ref)
        has = e.client_secret is not None
        edit = edit_merge.rebase(old, edit, has_secret=has)
        server_edit.check_edit(old, edit, has_secret=has)
        new = server_edit.edited_config(old, edit, has_secret=has)
        drop = has and (edit.forget_client_secret or new.client_id != old.client_id)
        changed = server_edit.changes(old, new, secret_changed=bool(edit.new_client_secret) or drop)
        if edit.new_client_secret:
            e.client_secret = edit.new_client_secret
        elif drop:
            e.client_secret = None
        e.config = new
        if changed:
            self.emit(core_events.ServerUpdated(e.view.id, time.time()))
        return server_edit.outcome(e.view, changed)

    # --- internals -------------------------------------------------------------------

    def _set(self, e: _Entry, state: core_state.ServerState, **changes: Any) -> None:
        old = e.view.state
        e.view = replace(e.view, state=state, **changes)
        if old is not state:
            self.emit(core_events.StateChanged(e.view.id, time.time(), old, state))


if TYPE_CHECKING:
    # `make typecheck` proves the fake implements the port the GUI uses (core/ports.py).
    def _port(fake: FakeManager) -> ManagerLike:
        return fake
