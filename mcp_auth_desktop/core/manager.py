"""TokenManager: the one API the GUI and the CLI use.

It keeps a registry of MCP servers, drives each through the state machine of
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
import functools
import hashlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from mcp_auth_desktop.core import (
    errors,
    migration,
    server_names,
    settings_seal,
    signin_lock,
    stale_client,
    urls,
)
from mcp_auth_desktop.core.identity import Identity, account_fields
from mcp_auth_desktop.core.lifecycle import check_transition
from mcp_auth_desktop.core.mcp import memory
from mcp_auth_desktop.core.models import (
    ClientRegistration,
    CredentialKey,
    Discovery,
    ServerConfig,
    ServerOptions,
    SystemClock,
    TokenSet,
)
from mcp_auth_desktop.core.ports import (
    BrowserOpener,
    Clock,
    JsonObject,
    McpClientFactory,
    McpClientLike,
    OAuthClientLike,
    SecretVault,
    SettingsStore,
    StorageLocation,
    TokenProvider,
)
from mcp_auth_desktop.core.refresh_record import RefreshRecorder, last_refresh
from mcp_auth_desktop.core.registry import (
    DISCOVERY,
    REGISTRATIONS,
    SERVERS,
    STATUS,
    PendingRevocation,
    Registry,
    snapshot_from_document,
)
from mcp_auth_desktop.core.revocation_text import registration_skip_reason
from mcp_auth_desktop.core.scheduler import ClockJumpDetector, backoff_delay, refresh_due_at
from mcp_auth_desktop.core.state import (
    LogEvent,
    ManagerEvent,
    RefreshFailed,
    RevocationReport,
    ServerAdded,
    ServerRemoved,
    ServerState,
    ServerUpdated,
    ServerView,
    SignInNeeded,
    StateChanged,
    TokensRefreshed,
)

__all__ = ["TokenManager", "OAuthClientLike", "McpClientLike", "McpClientFactory"]

log = logging.getLogger(__name__)

S = ServerState

#: Longest the background loop sleeps before re-checking the clocks (wake/jump detection).
WAKE_CHECK_INTERVAL = 30.0
#: Shortest sleep of the background loop. Something overdue that cannot start yet (its
#: refresh waits for a lock another process holds, a revocation retry hit a storage error)
#: must not make the loop spin; a refresh that ends wakes the loop anyway.
MIN_WAKE_DELAY = 0.5
#: First retry of a failed revocation; doubles per attempt up to the cap.
REVOCATION_RETRY_BASE = 60.0
REVOCATION_RETRY_CAP = 3600.0
#: Authorization attempts (sign-in, step-up) one ``call`` may make in all.
MAX_AUTHORIZATIONS_PER_CALL = 3
#: A token this close to expiry is not handed out even when a refresh fails.
SERVE_LEEWAY = 5.0


def _fingerprint(tokens: TokenSet | None) -> str | None:
    """Identifies a token set without keeping or logging the secret itself."""
    if tokens is None:
        return None
    return hashlib.sha256(tokens.access_token.encode()).hexdigest()[:16]


def _revocation_incomplete(report: RevocationReport, tokens: TokenSet) -> bool:
    """Whether the long-lived secret may still be alive at the server (worth a retry).

    Revoking the refresh token kills the grant; an access token that could not
    be revoked after that dies with it or expires soon, so it is not retried.
    """
    if not report.supported or report.client_unknown:
        return False  # nothing to retry: the server no longer knows the client
    if tokens.refresh_token:
        return not report.refresh_token_revoked
    return not report.access_token_revoked


def normalize_server_url(url: str, options: ServerOptions | None = None) -> str:
    """The stored form of a server URL the user typed (the rules live in ``core/urls.py``)."""
    allow = (options or ServerOptions()).allow_insecure_loopback
    return urls.normalize_server_url(url, allow_insecure_loopback=allow)


def _same_url(a: str, b: str) -> bool:
    return urls.same_server_url(a, b)


def _default_name(url: str) -> str:
    return server_names.default_name(url)


@dataclass
class _Server:
    """The manager's live record of one server (never shown directly; see ServerView)."""

    config: ServerConfig
    state: ServerState = S.NEW
    discovery: Discovery | None = None
    registration: dict[str, Any] | None = None  # the public part only
    status: dict[str, Any] = field(default_factory=dict)
    expires_at: float | None = None
    issued_at: float = 0.0
    granted_scopes: tuple[str, ...] = ()
    has_refresh_token: bool = False
    token_fp: str | None = None
    identity: Identity | None = None
    due_at: float | None = None
    failures: int = 0
    failing_since: float | None = None  # the first of the current run of failures
    last_refresh_at: float | None = None
    last_refresh_result: str | None = None
    last_error: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sign_in_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    refresh_task: asyncio.Task[None] | None = None
    busy: int = 0  # sign-in / discovery in progress: do not re-derive from storage

    def key(self) -> CredentialKey | None:
        if self.discovery is None or not self.registration:
            return None
        client_id = self.registration.get("client_id")
        if not isinstance(client_id, str):
            return None
        return CredentialKey(
            issuer=self.discovery.auth_server.issuer,
            client_id=client_id,
            resource=self.discovery.resource,
        )

    def forget_tokens(self) -> None:
        self.expires_at = None
        self.issued_at = 0.0
        self.granted_scopes = ()
        self.has_refresh_token = False
        self.token_fp = None
        self.identity = None
        self.due_at = None


class TokenManager:
    """Registry, state machine, background refresh, revocation and removal of MCP servers."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        vault: SecretVault,
        settings: SettingsStore,
        clock: Clock = SystemClock(),  # noqa: B008 - stateless
        browser: BrowserOpener | None = None,
        refresh_concurrency: int = 8,
        oauth: OAuthClientLike | None = None,
        mcp_client_factory: McpClientFactory | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self._vault = vault
        self._settings = settings
        self._clock = clock
        self._browser = browser
        self._registry = Registry(settings, vault)
        self._records = RefreshRecorder(self._registry)
        self._oauth_given = oauth
        self._oauth: OAuthClientLike | None = oauth
        self._mcp_factory = mcp_client_factory
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._semaphore = asyncio.Semaphore(max(1, refresh_concurrency))
        self._servers: dict[str, _Server] = {}
        self._subscribers: list[Callable[[ManagerEvent], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._jumps = ClockJumpDetector()
        self._revocation_next_try: dict[str, float] = {}
        self._started = False
        self._loaded = False
        self._closed = False
        #: Refreshes that actually went on the wire (for tests and benchmarks).
        self.wire_refreshes = 0

    # ------------------------------------------------------------------ life

    @property
    def oauth(self) -> OAuthClientLike:
        if self._oauth is None:
            from mcp_auth_desktop.core.flow import OAuthClient

            self._oauth = OAuthClient(self._http, clock=self._clock, browser=self._browser)
        return self._oauth

    @property
    def storage_location(self) -> StorageLocation:
        return self._vault.location

    async def start(self, *, background: bool = True) -> None:
        """Load the servers; with ``background`` also run the refresh loop and watch settings.

        The CLI passes ``background=False``: it serves one command and exits,
        while the GUI (or a daemon) keeps the loop.
        """
        if self._started:
            return
        self._started = True
        self._jumps.observe(self._clock.time(), self._clock.monotonic())
        await self._reconcile(await self._settings.load())
        if background:
            self._spawn(self._scheduler_loop(), "scheduler")
            self._spawn(self._watch_settings(), "settings-watch")

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

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(f"mcp-auth:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---------------------------------------------------------------- events

    def subscribe(self, callback: Callable[[ManagerEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, event: ManagerEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a broken observer must not break the manager
                log.exception("event subscriber failed on %s", type(event).__name__)

    def _set_state(self, s: _Server, new: ServerState) -> None:
        old = s.state
        if old is new:
            return
        check_transition(old, new)
        s.state = new
        log.debug("server %s: %s -> %s", s.config.name, old.value, new.value)
        self._emit(StateChanged(s.config.id, self._clock.time(), old=old, new=new))

    def _note(self, s: _Server | None, level: str, message: str, server_id: str = "") -> None:
        sid = s.config.id if s else server_id
        self._emit(LogEvent(sid, self._clock.time(), level=level, message=message))

    # ----------------------------------------------------------------- views

    def servers(self) -> list[ServerView]:
        return [self._view(s) for s in self._servers.values()]

    def get(self, ref: str) -> ServerView:
        return self._view(self._resolve(ref))

    def _resolve(self, ref: str) -> _Server:
        text = ref.strip()
        if text in self._servers:
            return self._servers[text]
        lowered = text.lower()
        for s in self._servers.values():
            if s.config.name.lower() == lowered:
                return s
        try:
            url = normalize_server_url(text, ServerOptions(allow_insecure_loopback=True))
        except errors.McpAuthError:
            url = None
        if url is not None:
            for s in self._servers.values():
                if _same_url(s.config.url, url):
                    return s
        raise errors.ServerNotFoundError(
            f"No server named {errors.sanitize_server_text(text, 120)!r}: "
            "check its name, id or URL in the list of servers."
        )

    def _view(self, s: _Server) -> ServerView:
        reg = s.registration or {}
        d = s.discovery
        redirect_uris = reg.get("redirect_uris") or []
        last_refresh_at, last_refresh_result = last_refresh(s.last_refresh_at, s.last_refresh_result,
                                                            s.status)
        return ServerView(
            id=s.config.id,
            name=s.config.name,
            url=s.config.url,
            state=s.state,
            issuer=d.auth_server.issuer if d else None,
            resource=d.resource if d else None,
            registration_method=reg.get("method"),
            client_id=reg.get("client_id") or s.config.client_id,
            redirect_uri=redirect_uris[0] if redirect_uris else None,
            requested_scopes=tuple(s.status.get("requested_scopes") or s.config.scopes),
            granted_scopes=s.granted_scopes,
            expires_at=s.expires_at,
            has_refresh_token=s.has_refresh_token,
            last_refresh_at=last_refresh_at,
            last_refresh_result=last_refresh_result,
            last_error=s.last_error or s.status.get("last_error"),
            revocation_supported=(d.auth_server.revocation_endpoint is not None) if d else None,
            pending_revocation=bool(s.status.get("pending_revocation")),
            discovery_trail=d.trail if d else (),
            mcp_server=memory.remembered_description(s.status),
            refresh_failures=s.failures,
            failing_since=s.failing_since if s.failures else None,
            **account_fields(s.identity),
        )

    # -------------------------------------------------- loading & reconciling

    async def _reconcile(self, doc: JsonObject) -> None:
        """Bring the in-memory registry in line with the settings document.

        Called at start and whenever another process (the CLI, a second GUI)
        changed the document. Servers busy signing in or refreshing here keep
        their state; the others are re-derived from what storage holds.
        """
        snap = snapshot_from_document(doc)
        # Values that decide where secrets go come from the vault (issue 15 #7).
        snap.servers = await settings_seal.apply(
            snap.servers, snap.discovery, self._vault,
            lambda sid, msg: self._note(None, "warning", msg, server_id=sid),
        )
        seen: set[str] = set()
        for config in snap.servers:
            seen.add(config.id)
            s = self._servers.get(config.id)
            is_new = s is None
            if s is None:
                s = _Server(config=config)
                self._servers[config.id] = s
            before = None if is_new else self._view(s)
            s.config = config
            s.discovery = snap.discovery.get(config.id, s.discovery if not is_new else None)
            s.registration = snap.registrations.get(config.id)
            s.status = snap.status.get(config.id, {})
            if is_new and self._loaded:
                self._emit(ServerAdded(config.id, self._clock.time(), name=config.name))
            if s.busy == 0 and not s.lock.locked():
                await self._derive_state(s)
            if before is not None and self._view(s) != before:
                self._emit(ServerUpdated(config.id, self._clock.time()))
        self._loaded = True
        for sid in [sid for sid in self._servers if sid not in seen]:
            if self._servers[sid].lock.locked() or self._servers[sid].busy:
                continue  # being added or removed by this process, which emits the event
            gone = self._servers.pop(sid)
            self._emit(ServerRemoved(sid, self._clock.time(), name=gone.config.name))
        self._wake.set()

    async def _derive_state(self, s: _Server) -> None:
        """Work out a server's state from storage (after a restart or another process's change)."""
        if s.discovery is None:
            # Discovery ran and failed (its cause is stored): say so, also after a restart
            # or in another process, rather than "new" as if it had never run.
            target = S.ERROR if s.status.get("last_error") else S.NEW
            if s.state in (S.NEW, S.ERROR):
                self._set_state(s, target)
            return
        key = s.key()
        tokens = await self._registry.get_tokens(key) if key else None
        if tokens is not None:
            self._absorb(s, tokens)
            usable = tokens.refresh_token is not None or not tokens.is_expired(self._clock.time())
            if s.status.get("sign_in_needed") or not usable:
                s.due_at = None
                self._set_state(s, S.SIGN_IN_NEEDED)
            elif s.state not in (S.ERROR, S.SIGNED_IN):
                self._set_state(s, S.SIGNED_IN)
            return
        s.forget_tokens()
        if s.status.get("sign_in_needed"):
            target = S.SIGN_IN_NEEDED
        elif s.status.get("revoked"):
            target = S.REVOKED
        else:
            target = S.NEEDS_SIGN_IN
        if s.state is S.REFRESHING:
            return
        if s.state is S.SIGNED_IN and target is S.NEEDS_SIGN_IN:
            # Tokens vanished under us: another process removed them.
            target = S.SIGN_IN_NEEDED
        self._set_state(s, target)

    def _absorb(self, s: _Server, tokens: TokenSet) -> None:
        """Take the non-secret facts of a token set and schedule its refresh."""
        fp = _fingerprint(tokens)
        if fp != s.token_fp or s.due_at is None:
            before = s.due_at
            s.due_at = (
                refresh_due_at(tokens.issued_at, tokens.expires_at, rng=self._rng)
                if tokens.refresh_token is not None
                else None
            )
            if s.due_at is not None and (before is None or s.due_at < before):
                # The loop may be asleep until a later time (or for the full check
                # interval): a short-lived token from a refresh it did not run itself
                # (a button, get_token, another process) must not be refreshed late.
                self._wake.set()
        s.token_fp = fp
        s.expires_at = tokens.expires_at
        s.issued_at = tokens.issued_at
        s.granted_scopes = tokens.scope
        s.has_refresh_token = tokens.refresh_token is not None
        s.identity = Identity.from_dict(tokens.identity)

    async def _watch_settings(self) -> None:
        agen = self._settings.watch().__aiter__()
        pending: asyncio.Future[JsonObject] = asyncio.ensure_future(agen.__anext__())
        try:
            # Let the watcher note the current version, then catch up on any change
            # made between start() and now, which it would otherwise never report.
            await asyncio.sleep(0)
            await self._reconcile(await self._settings.load())
            while True:
                await pending
                pending = asyncio.ensure_future(agen.__anext__())
                try:
                    # Re-read rather than trust the notified copy: a poller may hand
                    # over a document older than a write this process just made.
                    await self._reconcile(await self._settings.load())
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
        canonical = normalize_server_url(url, options)
        for s in self._servers.values():
            if _same_url(s.config.url, canonical):
                raise errors.DuplicateServerError(
                    f"{canonical} is already added as {s.config.name!r}."
                )
        chosen = (name or "").strip() or self._unique_name(_default_name(canonical))
        self._check_name_free(chosen)
        if client_secret is not None and not client_id:
            raise errors.ConfigurationError("A client secret needs a client id: give both, or neither.")
        method = client_auth_method
        if client_id and method is None:
            method = "client_secret_basic" if client_secret else "none"
        config = ServerConfig(
            id=uuid.uuid4().hex[:12],
            name=chosen,
            url=canonical,
            scopes=tuple(scopes),
            client_id=client_id or None,
            client_auth_method=method if client_id else None,
            options=options,
            added_at=self._clock.time(),
        )
        discovery = await self.oauth.discover(config) if discover else None
        # In the registry before the settings write, so a settings watch that
        # fires in between finds it and does not announce it a second time.
        s = _Server(config=config, busy=1, discovery=discovery)
        self._servers[config.id] = s
        try:
            if client_secret:
                await self._registry.put_client_secret(config.id, client_secret)
            await self._registry.put_server(config)
            if discovery is not None:
                await self._registry.put_discovery(config.id, discovery)
                s.state = S.NEEDS_SIGN_IN
        except BaseException:
            self._servers.pop(config.id, None)
            raise
        finally:
            s.busy -= 1
        self._emit(ServerAdded(config.id, self._clock.time(), name=config.name))
        log.info("added server %s (%s)", config.name, config.url)
        return self._view(s)

    def _unique_name(self, base: str) -> str:
        taken = {s.config.name.lower() for s in self._servers.values()}
        if base.lower() not in taken:
            return base
        n = 2
        while f"{base}-{n}".lower() in taken:
            n += 1
        return f"{base}-{n}"

    def _check_name_free(self, name: str, except_id: str | None = None) -> None:
        if not name or any(c in name for c in "\r\n\t"):
            raise errors.ConfigurationError("A server name must be non-empty, on one line.")
        for s in self._servers.values():
            if s.config.id != except_id and s.config.name.lower() == name.lower():
                raise errors.DuplicateServerError(f"A server is already named {name!r}.")

    async def rename(self, ref: str, name: str) -> ServerView:
        s = self._resolve(ref)
        new = name.strip()
        self._check_name_free(new, except_id=s.config.id)
        # Storage first, then memory: a reconcile in between must not undo the change.
        config = replace(s.config, name=new)
        await self._registry.put_server(config)
        s.config = config
        return self._view(s)

    def server_config(self, ref: str) -> ServerConfig:
        """The server's stored settings (no secret in them), for editing them."""
        return self._resolve(ref).config

    async def update_options(self, ref: str, options: ServerOptions) -> ServerView:
        """Change a server's advanced options (resource override, callback port…)."""
        s = self._resolve(ref)
        config = replace(s.config, options=options)
        await self._registry.put_server(config)
        s.config = config
        return self._view(s)

    async def rediscover(self, ref: str) -> ServerView:
        s = self._resolve(ref)
        await self._discover(s, force=True)
        return self._view(s)

    async def _discover(
        self, s: _Server, *, challenge: Any = None, force: bool = False
    ) -> Discovery:
        if s.discovery is not None and not force and challenge is None:
            return s.discovery
        previous = s.state
        s.busy += 1
        self._set_state(s, S.DISCOVERING)
        try:
            discovery = await self.oauth.discover(s.config, challenge=challenge)
        except errors.McpAuthError as exc:
            s.last_error = exc.user_message
            await self._registry.update_status(s.config.id, last_error=exc.user_message)
            self._set_state(s, S.ERROR if s.discovery is None else previous)
            log.info("discovery failed for %s: %s", s.config.name, exc.user_message)
            raise
        finally:
            s.busy -= 1
        old = s.discovery
        if old is not None and old.auth_server.issuer != discovery.auth_server.issuer:
            # A new authorization server (SEP-2352): the old registration and tokens mean
            # nothing there. Retired, not forgotten: revoked and deleted after the next sign-in.
            await migration.retire_server(
                self._registry, self._vault, server_id=s.config.id, server_name=s.config.name,
                old=old, public_registration=s.registration,
            )
            s.registration = None
            s.forget_tokens()
            self._migration_note(s, "warning", (
                f"{s.config.name} now uses the authorization server "
                f"{discovery.auth_server.issuer} instead of {old.auth_server.issuer}: sign in "
                "there; the old sign-in will then be revoked and the old registration deleted."))
        s.discovery = discovery
        s.last_error = None
        await self._registry.put_discovery(s.config.id, discovery)
        await self._registry.update_status(s.config.id, last_error=None)
        if previous in (S.NEW, S.ERROR, S.DISCOVERING):
            self._set_state(s, S.NEEDS_SIGN_IN)
        elif s.key() is None and previous is S.SIGNED_IN:
            self._set_state(s, S.NEEDS_SIGN_IN)
        else:
            self._set_state(s, previous)
        return discovery

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
        async with s.sign_in_lock:
            await self._sign_in(
                s, on_authorization_url=on_authorization_url, challenged=scopes,
                re_register=re_register,
            )
        return self._view(s)

    async def _sign_in(self, s: _Server, **kwargs: Any) -> None:
        """One sign-in per server across processes (core/signin_lock.py): wait, then join or sign in."""
        asked = self._clock.time()
        wanted = tuple(kwargs.get("challenged") or ())
        note = signin_lock.waiting_message(s.config.name)
        async with signin_lock.hold(self._vault, s.config.id, on_wait=lambda: self._note(s, "warning", note)):
            if not kwargs.get("re_register") and await self._joined_sign_in(s, asked, wanted):
                return
            await self._sign_in_here(s, **kwargs)

    async def _joined_sign_in(self, s: _Server, asked: float, wanted: tuple[str, ...]) -> bool:
        """Another process stored a sign-in for s since ``asked``: take it instead of a second one."""
        snap = await self._registry.load()
        s.discovery = snap.discovery.get(s.config.id, s.discovery)
        s.registration = snap.registrations.get(s.config.id, s.registration)
        key = s.key()
        tokens = await self._registry.get_tokens(key) if key is not None else None
        if tokens is None or not signin_lock.covers(tokens, asked, wanted):
            return False
        s.status = snap.status.get(s.config.id, {})
        s.last_error = None
        s.failures = 0
        s.token_fp = None
        self._absorb(s, tokens)
        self._set_state(s, S.SIGNED_IN)
        self._note(s, "info", f"Signed in to {s.config.name} (by another process; joined it).")
        self._wake.set()
        return True

    async def _sign_in_here(
        self,
        s: _Server,
        *,
        on_authorization_url: Callable[[str], None] | None,
        challenged: tuple[str, ...] = (),
        challenge: Any = None,
        rediscover: bool = False,
        re_register: bool = False,
    ) -> None:
        if s.discovery is None or rediscover:
            await self._discover(s, challenge=challenge, force=rediscover)
        discovery = s.discovery
        assert discovery is not None  # noqa: S101 - _discover sets it or raises
        async with s.lock:
            pass  # let an in-flight refresh finish before the state says "signing in"
        previous = s.state
        old_key = s.key()
        s.busy += 1
        self._set_state(s, S.SIGNING_IN)
        try:
            registration = (
                await self._registry.get_registration(s.config.id, discovery.auth_server.issuer)
                if s.registration
                else None
            )
            secret = await self._registry.get_client_secret(s.config.id)
            previous_scopes = tuple(s.status.get("requested_scopes") or ()) or s.granted_scopes
            scopes = self.oauth.select_scopes(
                s.config, discovery, previous=previous_scopes, challenged=challenged
            )
            if s.status.get("stale_client") and registration is not None:
                re_register = True
                self._note(s, "warning", stale_client.reregistering_message(s.config.name))
            registration, tokens = await self.oauth.sign_in(
                s.config,
                discovery,
                registration,
                scopes=scopes,
                client_secret=secret,
                on_authorization_url=on_authorization_url,
                re_register=re_register,
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
            self._set_state(s, back)
            if isinstance(exc, errors.StaleClientError) and not s.config.client_id:
                await self._registry.update_status(s.config.id, stale_client=True)
                s.status["stale_client"] = True
            raise
        finally:
            s.busy -= 1
        await self._registry.put_registration(s.config.id, registration)
        s.registration = await self._public_registration(s)
        key = s.key()
        assert key is not None  # noqa: S101 - discovery and registration are set
        await self._registry.put_tokens(key, tokens)
        if old_key is not None and old_key != key:
            await self._registry.delete_tokens(old_key)
        await self._registry.update_status(
            s.config.id,
            sign_in_needed=None,
            revoked=None,
            last_error=None,
            requested_scopes=list(scopes),
            stale_client=None,
        )
        s.status.update({"requested_scopes": list(scopes)})
        for k in ("sign_in_needed", "revoked", "last_error", "stale_client"):
            s.status.pop(k, None)
        s.last_error = None
        s.failures = 0
        s.token_fp = None
        self._absorb(s, tokens)
        self._set_state(s, S.SIGNED_IN)
        self._note(s, "info", f"Signed in to {s.config.name}.")
        log.info("signed in to %s", s.config.name)
        self._wake.set()
        await self._settle_migrations(s)

    async def _settle_migrations(self, s: _Server) -> None:
        """Revoke and deregister at authorization servers this server moved away from."""
        for report in await migration.settle_server(
            self.oauth, self._vault, s.config.id,
            schedule=self._revocation_next_try, now=self._clock.time(),
        ):
            level = "info" if report.complete else "warning"
            self._migration_note(s, level, report.summary())

    def _migration_note(self, s: _Server, level: str, message: str) -> None:
        self._emit(migration.MigrationNote(s.config.id, self._clock.time(), level=level, message=message))

    async def _public_registration(self, s: _Server) -> dict[str, Any] | None:
        snap = await self._registry.load()
        return snap.registrations.get(s.config.id)

    # --------------------------------------------------------------- refresh

    async def refresh(self, ref: str, *, force: bool = True) -> ServerView:
        """Refresh now (``force``) or only when the token is due.

        A forced refresh that finds another caller already rotated the token
        after this one was asked for uses that result instead of sending a
        second request.
        """
        s = self._resolve(ref)
        await self._refresh(s, force=force, min_ttl=self._margin_ttl(s))
        return self._view(s)

    def _margin_ttl(self, s: _Server) -> float:
        if s.due_at is None or s.expires_at is None:
            return 0.0
        return max(0.0, s.expires_at - s.due_at)

    async def get_token(self, ref: str, *, min_ttl: float = 60.0) -> str:
        """A valid access token, refreshed first when it would expire within ``min_ttl`` s.

        When a refresh fails transiently and the current token is still valid
        it is returned anyway: a flaky token endpoint must not break callers.
        """
        s = self._resolve(ref)
        tokens = await self._current_tokens(s)
        now = self._clock.time()
        lifetime = tokens.lifetime()
        if lifetime:
            # A server issuing 30-second tokens cannot satisfy min_ttl=60: asking
            # for more than half a lifetime would refresh a brand-new token every time.
            min_ttl = min(min_ttl, lifetime / 2.0)
        if tokens.expires_at is None or tokens.expires_at - now >= min_ttl:
            return tokens.access_token
        try:
            fresh = await self._refresh(s, force=False, min_ttl=min_ttl, seen=tokens)
        except errors.McpAuthError as exc:
            if exc.transient and not tokens.is_expired(self._clock.time(), SERVE_LEEWAY):
                return tokens.access_token
            raise
        return fresh.access_token

    async def token_info(self, ref: str, *, min_ttl: float = 60.0) -> TokenSet:
        """Like :meth:`get_token` but the whole token set (for ``mcp-auth token --json``)."""
        s = self._resolve(ref)
        await self.get_token(ref, min_ttl=min_ttl)
        return await self._current_tokens(s)

    async def _current_tokens(self, s: _Server) -> TokenSet:
        key = s.key()
        tokens = await self._registry.get_tokens(key) if key else None
        if tokens is None:
            if key is not None and s.state is S.SIGNED_IN and s.busy == 0:
                await self._derive_state(s)
            raise errors.SignInRequiredError(
                f"Not signed in to {s.config.name}: sign in first."
            )
        if _fingerprint(tokens) != s.token_fp:
            self._absorb(s, tokens)
        return tokens

    def _satisfied(
        self, current: TokenSet, seen_fp: str | None, *, force: bool, min_ttl: float
    ) -> bool:
        """Whether ``current`` already answers a refresh asked for after seeing ``seen_fp``."""
        now = self._clock.time()
        if seen_fp is not None and _fingerprint(current) != seen_fp:
            # Someone (this process or another) refreshed after we looked.
            return not current.is_expired(now, SERVE_LEEWAY)
        if force:
            return False
        return current.expires_at is None or current.expires_at - now >= min_ttl

    async def _refresh(
        self,
        s: _Server,
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
            seen = await self._registry.get_tokens(key)
        fp = seen_fp if seen_fp is not None else _fingerprint(seen)
        async with s.lock:  # single flight in this process
            current = await self._registry.get_tokens(key)
            if current is not None and self._satisfied(current, fp, force=force, min_ttl=min_ttl):
                self._absorb(s, current)
                return current
            async with self._semaphore, self._vault.lock(key.storage_name()):
                # Re-read under the cross-process lock: another process may have rotated.
                current = await self._registry.get_tokens(key)
                if current is None:
                    await self._tokens_gone(s)
                    raise errors.SignInRequiredError(
                        f"Not signed in to {s.config.name}: sign in first."
                    )
                if self._satisfied(current, fp, force=force, min_ttl=min_ttl):
                    self._absorb(s, current)
                    if s.state in (S.ERROR, S.SIGN_IN_NEEDED, S.NEEDS_SIGN_IN, S.REVOKED):
                        self._set_state(s, S.SIGNED_IN)
                    return current
                return await self._refresh_on_wire(s, key, current)

    async def _refresh_on_wire(self, s: _Server, key: CredentialKey, current: TokenSet) -> TokenSet:
        """The refresh request itself; the caller holds both locks."""
        discovery = s.discovery
        assert discovery is not None  # noqa: S101 - key() needs it
        if current.refresh_token is None:
            raise errors.SignInRequiredError(
                f"{s.config.name} gave no refresh token: sign in again when this token expires."
            )
        registration = await self._registry.get_registration(
            s.config.id, discovery.auth_server.issuer
        )
        if registration is None:
            await self._mark_sign_in_needed(s, "the client registration is missing", key=None)
            raise errors.SignInRequiredError(
                f"The client registration for {s.config.name} is missing: sign in again."
            )
        if s.state in (S.SIGNED_IN, S.ERROR):
            self._set_state(s, S.REFRESHING)
        now = self._clock.time()
        self.wire_refreshes += 1
        try:
            new = await self.oauth.refresh(
                discovery,
                registration,
                current,
                resource=self.oauth.resource_for(s.config, discovery),
            )
        except errors.InvalidGrantError as exc:
            # A loser of a race re-reads first: if a winner stored a new token, use it.
            again = await self._registry.get_tokens(key)
            if again is not None and _fingerprint(again) != _fingerprint(current):
                self._absorb(s, again)
                if s.state is S.REFRESHING:
                    self._set_state(s, S.SIGNED_IN)
                return again
            await self._registry.delete_tokens(key)
            s.forget_tokens()
            s.last_refresh_at, s.last_refresh_result = now, "sign-in needed"
            await self._mark_sign_in_needed(s, exc.user_message, key=None)
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
            await self._mark_sign_in_needed(s, exc.user_message, key=None)
            await self._stale_client_seen(s, exc)
            raise
        except errors.McpAuthError as exc:
            if not stale_client.is_stale_client(exc):
                self._refresh_failed(s, exc, now)
                raise
            # e.g. invalid_request "Client ID not found": as invalid_client above.
            s.last_refresh_at, s.last_refresh_result, s.due_at = now, "sign-in needed", None
            await self._mark_sign_in_needed(s, exc.user_message, key=None)
            await self._stale_client_seen(s, exc)
            raise
        except httpx.HTTPError as exc:  # should be wrapped by the flow; be safe anyway
            wrapped = errors.NetworkError(
                f"Could not reach the token endpoint ({type(exc).__name__})."
            )
            self._refresh_failed(s, wrapped, now)
            raise wrapped from exc
        except asyncio.CancelledError:
            if s.state is S.REFRESHING:
                self._set_state(s, S.SIGNED_IN)
            raise
        except Exception as exc:
            # A bug below us must not wedge the server in REFRESHING: record it as a
            # failed refresh so the loop retries with backoff and the user sees it.
            log.error("refresh of %s failed unexpectedly: %s", s.config.name, type(exc).__name__)
            unexpected = errors.McpAuthError(
                f"Refreshing {s.config.name} failed unexpectedly ({type(exc).__name__})."
            )
            self._refresh_failed(s, unexpected, now)
            raise unexpected from exc
        merged = current.with_refresh(new)
        await self._registry.put_tokens(key, merged)
        rotated = merged.refresh_token != current.refresh_token
        s.failures = 0
        s.last_error = None
        s.last_refresh_at, s.last_refresh_result = now, "ok"
        self._records.record(s.config.id, now, "ok")
        s.token_fp = None
        self._absorb(s, merged)
        if s.state in (S.REFRESHING, S.ERROR, S.SIGN_IN_NEEDED, S.NEEDS_SIGN_IN, S.NEW):
            self._set_state(s, S.SIGNED_IN)
        self._emit(TokensRefreshed(s.config.id, now, expires_at=merged.expires_at, rotated=rotated))
        log.debug("refreshed %s (rotated=%s)", s.config.name, rotated)
        return merged

    async def _stale_client_seen(self, s: _Server, exc: errors.McpAuthError) -> None:
        """The AS forgot our client: the next sign-in registers again (told to the user then)."""
        if not stale_client.is_stale_client(exc) or s.config.client_id:
            return  # a client the user entered is theirs to fix, never replaced
        await self._registry.update_status(s.config.id, stale_client=True)
        s.status["stale_client"] = True
        raise errors.StaleClientError(
            f"{exc.user_message}. The authorization server of {s.config.name} no longer knows "
            "this app; the next sign-in registers it again."
        ) from exc

    def _refresh_failed(self, s: _Server, exc: errors.McpAuthError, now: float) -> None:
        s.failures += 1
        if s.failures == 1:
            s.failing_since = now
        retry_after = getattr(exc, "retry_after", None)
        delay = backoff_delay(s.failures, retry_after=retry_after, rng=self._rng)
        s.due_at = now + delay
        s.last_refresh_at = now
        s.last_refresh_result = "will retry" if exc.transient else "failed"
        self._records.record(s.config.id, now, s.last_refresh_result)
        s.last_error = exc.user_message
        if s.state is S.REFRESHING:
            self._set_state(s, S.SIGNED_IN if exc.transient else S.ERROR)
        self._emit(
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
        self._wake.set()

    async def _mark_sign_in_needed(
        self, s: _Server, reason: str, *, key: CredentialKey | None
    ) -> None:
        if key is not None:
            await self._registry.delete_tokens(key)
            s.forget_tokens()
        s.last_error = reason
        s.due_at = None
        await self._registry.update_status(s.config.id, sign_in_needed=True, last_error=reason)
        s.status.update({"sign_in_needed": True, "last_error": reason})
        if s.state is S.SIGN_IN_NEEDED:
            return
        self._set_state(s, S.SIGN_IN_NEEDED)
        self._emit(SignInNeeded(s.config.id, self._clock.time(), reason=reason))
        log.warning("sign-in needed for %s: %s", s.config.name, reason)

    async def _tokens_gone(self, s: _Server) -> None:
        s.forget_tokens()
        s.status = (await self._registry.load()).status.get(s.config.id, {})
        if s.state in (S.SIGNED_IN, S.REFRESHING, S.ERROR):
            self._set_state(s, S.REVOKED if s.status.get("revoked") else S.SIGN_IN_NEEDED)

    # ------------------------------------------------------ background loop

    async def run_due(self) -> None:
        """Start every refresh that is due now and wait for them (the loop's step; tests call it)."""
        await self._check_clock()
        for task in self._launch_due():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.retry_pending_revocations(only_due=True)

    async def _check_clock(self) -> None:
        """After a suspend or a clock change, re-read storage and re-check every schedule.

        Due times are absolute wall-clock times, so after a jump the ordinary
        "is it due" test is already right; what may be stale is what we know:
        another process may have refreshed while this one slept.
        """
        jump = self._jumps.observe(self._clock.time(), self._clock.monotonic())
        if jump is None:
            return
        log.info(
            "wall clock moved %+.0f s against the monotonic clock (sleep or clock change); "
            "re-checking every server",
            jump,
        )
        self._note(None, "info", f"Clock jump of {jump:+.0f} s detected; re-checking servers.")
        for s in self._servers.values():
            s.failures = 0  # the network that failed before the sleep may be back
        await self._reconcile(await self._settings.load())

    def _launch_due(self) -> list[asyncio.Task[None]]:
        now = self._clock.time()
        started: list[asyncio.Task[None]] = []
        for s in self._servers.values():
            if s.state not in (S.SIGNED_IN, S.ERROR) or s.due_at is None or s.due_at > now:
                continue
            if s.busy:
                continue
            if s.refresh_task is not None and not s.refresh_task.done():
                continue
            task = self._spawn(self._background_refresh(s), f"refresh:{s.config.id}")
            s.refresh_task = task
            started.append(task)
        return started

    async def _background_refresh(self, s: _Server) -> None:
        try:
            await self._refresh(s, force=True, min_ttl=0.0, seen_fp=s.token_fp or "-")
        except errors.McpAuthError as exc:
            log.debug("background refresh of %s ended: %s", s.config.name, exc.user_message)
        except Exception:
            log.exception("unexpected failure refreshing %s", s.config.name)
            s.due_at = self._clock.time() + backoff_delay(max(1, s.failures), rng=self._rng)
        finally:
            # The loop chose its sleep while this ran; the new due time may be sooner.
            self._wake.set()

    def _next_wake(self) -> float:
        """Seconds until the earliest refresh or revocation retry is due.

        At most :data:`WAKE_CHECK_INTERVAL` (clock-jump checks), at least
        :data:`MIN_WAKE_DELAY` (no spinning on something overdue that cannot start).
        """
        now = self._clock.time()
        delay = WAKE_CHECK_INTERVAL
        for s in self._servers.values():
            if s.due_at is not None and s.state in (S.SIGNED_IN, S.ERROR):
                delay = min(delay, s.due_at - now)
        for when in self._revocation_next_try.values():
            delay = min(delay, when - now)
        return max(MIN_WAKE_DELAY, delay)

    async def _sleep_until_woken(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when something sets the wake event."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _scheduler_loop(self) -> None:
        # Sleeping on the event loop uses the monotonic clock; we never sleep
        # longer than WAKE_CHECK_INTERVAL so a suspend or wall-clock jump is
        # noticed quickly and due refreshes run right after wake.
        await self._load_pending_revocation_schedule()
        while not self._closed:
            try:
                await self._check_clock()
            except errors.McpAuthError as exc:
                log.info("could not re-read storage after a clock jump: %s", exc)
            self._launch_due()
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
            report = await self._revoke(s)
        return report

    async def _revoke(self, s: _Server) -> RevocationReport:
        discovery = s.discovery
        key = s.key()
        supported = bool(discovery and discovery.auth_server.revocation_endpoint)
        if discovery is None or key is None:
            return RevocationReport(supported=supported, had_tokens=False)
        async with self._vault.lock(key.storage_name()):
            tokens = await self._registry.get_tokens(key)
            if tokens is None:
                return RevocationReport(supported=supported, had_tokens=False)
            registration = await self._registry.get_registration(
                s.config.id, discovery.auth_server.issuer
            )
            report = await self._revoke_at_server(discovery, registration, tokens)
            if report.client_unknown and not s.config.client_id:
                await self._registry.update_status(s.config.id, stale_client=True)
                s.status["stale_client"] = True
            # Local deletion happens whatever the server said.
            await self._registry.delete_tokens(key)
        s.forget_tokens()
        pending = registration is not None and _revocation_incomplete(report, tokens)
        if pending and registration is not None:
            name = await self._registry.add_pending_revocation(
                s.config.id, s.config.name, discovery, registration, tokens
            )
            self._revocation_next_try[name] = self._clock.time() + REVOCATION_RETRY_BASE
            report = replace(report, will_retry=True)
            self._note(s, "warning", f"Revocation at {s.config.name} failed; it will be retried.")
            log.warning(
                "revocation at %s failed; will retry: %s", s.config.name, "; ".join(report.errors)
            )
        await self._registry.update_status(
            s.config.id,
            revoked=True,
            sign_in_needed=None,
            pending_revocation=True if pending else None,
        )
        s.status.update({"revoked": True})
        s.status.pop("sign_in_needed", None)
        if pending:
            s.status["pending_revocation"] = True
        self._set_state(s, S.REVOKED)
        log.info("revoked %s: %s", s.config.name, report.summary())
        return report

    async def _revoke_at_server(
        self, discovery: Discovery, registration: ClientRegistration | None, tokens: TokenSet
    ) -> RevocationReport:
        supported = discovery.auth_server.revocation_endpoint is not None
        if not supported:
            return RevocationReport(supported=False)
        if registration is None:
            return RevocationReport(
                supported=True, errors=("the client registration is missing; revoked locally only",)
            )
        try:
            return await self.oauth.revoke(discovery, registration, tokens)
        except errors.McpAuthError as exc:
            return RevocationReport(supported=True, errors=(exc.user_message,))
        except httpx.HTTPError as exc:
            return RevocationReport(
                supported=True,
                errors=(f"could not reach the revocation endpoint ({type(exc).__name__})",),
            )

    async def _load_pending_revocation_schedule(self) -> None:
        now = self._clock.time()
        for item in await self._registry.pending_revocations():
            self._revocation_next_try.setdefault(item.name, now)
        for retired in await migration.retired_for(self._vault):
            if retired.due:
                self._revocation_next_try.setdefault(retired.name, now)

    async def retry_pending_revocations(self, *, only_due: bool = False) -> list[RevocationReport]:
        """Retry revocations that failed earlier; successful ones are forgotten."""
        now = self._clock.time()
        if only_due and not any(t <= now for t in self._revocation_next_try.values()):
            return []
        reports: list[RevocationReport] = []
        for item in await self._registry.pending_revocations():
            when = self._revocation_next_try.get(item.name, now)
            if only_due and when > now:
                continue
            report = await self._revoke_at_server(item.discovery, item.registration, item.tokens)
            reports.append(report)
            if _revocation_incomplete(report, item.tokens):
                await self._registry.bump_pending_revocation(item)
                delay = min(REVOCATION_RETRY_CAP, REVOCATION_RETRY_BASE * 2.0**item.attempts)
                self._revocation_next_try[item.name] = now + delay
                continue
            await self._finish_pending(item)
        # Credentials left at an authorization server a server moved away from (SEP-2352).
        for done in await migration.settle_due(self.oauth, self._vault, self._revocation_next_try, now):
            level = "info" if done.complete else "warning"
            self._emit(migration.MigrationNote(done.server_id, now, level=level, message=done.summary()))
        return reports

    async def _finish_pending(self, item: PendingRevocation) -> None:
        await self._registry.delete_pending_revocation(item.name)
        self._revocation_next_try.pop(item.name, None)
        s = self._servers.get(item.server_id)
        remaining = [
            p for p in await self._registry.pending_revocations() if p.server_id == item.server_id
        ]
        if s is not None and not remaining:
            await self._registry.update_status(s.config.id, pending_revocation=None)
            s.status.pop("pending_revocation", None)
        self._note(s, "info", f"Revocation at {item.server_name} completed.", item.server_id)
        log.info("pending revocation at %s completed", item.server_name)

    async def remove(self, ref: str) -> RevocationReport:
        """Revoke, delete a dynamic registration (RFC 7592) where possible, forget everything."""
        s = self._resolve(ref)
        async with s.lock:
            report = (
                await self._revoke(s)
                if s.key()
                else RevocationReport(
                    supported=bool(s.discovery and s.discovery.auth_server.revocation_endpoint),
                    had_tokens=False,
                )
            )
            deleted: bool | None = None
            registration = (
                await self._registry.get_registration(s.config.id, s.discovery.auth_server.issuer)
                if s.discovery is not None
                else None
            )
            if (
                registration is not None
                and registration.method == "dcr"
                and registration.registration_access_token
                and registration.registration_client_uri
            ):
                try:
                    deleted = await self.oauth.delete_registration(registration)
                except (errors.McpAuthError, httpx.HTTPError) as exc:
                    deleted = False
                    log.info("could not delete the registration of %s: %s", s.config.name, exc)
                    if isinstance(exc, errors.McpAuthError):  # the user reads why (issue 15 #2)
                        report = replace(report, errors=(*report.errors, exc.user_message))
            if deleted:
                # Deleting the client invalidates its grants: nothing left to revoke later.
                for item in await self._registry.pending_revocations():
                    if item.server_id == s.config.id:
                        await self._registry.delete_pending_revocation(item.name)
                        self._revocation_next_try.pop(item.name, None)
            if s.discovery is not None:
                await self._registry.delete_registration(
                    s.config.id, s.discovery.auth_server.issuer
                )
            # Credentials retired by an authorization server migration go too (finding 15.6).
            await self._settle_migrations(s)
            await self._registry.delete_server_secrets(s.config.id)
            await self._registry.drop_server(s.config.id)
        skipped = None if deleted is not None else registration_skip_reason(
            registration.method if registration else None,
            bool(registration and registration.registration_client_uri
                 and registration.registration_access_token))
        report = replace(report, registration_deleted=deleted, registration_skipped=skipped)
        self._servers.pop(s.config.id, None)
        self._emit(
            ServerRemoved(s.config.id, self._clock.time(), name=s.config.name, report=report)
        )
        log.info("removed %s: %s", s.config.name, report.summary())
        return report

    async def forget_everything(self, *, revoke: bool = True) -> list[tuple[str, str]]:
        """Remove every server, then delete the vault file, its keyring item and the server list.

        With ``revoke`` each server is removed as by :meth:`remove` first (revocation and
        deregistration at the server); what the servers answer never stops the local
        deletion, which is the point of this action. Returns (server name, outcome) pairs.
        The vault is gone afterwards: the CLI exits and the app closes.
        """
        outcome: list[tuple[str, str]] = []
        for s in list(self._servers.values()):
            name = s.config.name
            if revoke:
                try:
                    outcome.append((name, (await self.remove(s.config.id)).summary()))
                    continue
                except errors.McpAuthError as exc:
                    outcome.append((name, f"not revoked: {exc.user_message}"))
            else:
                outcome.append((name, "forgotten here only (not revoked at the server)"))
            self._servers.pop(s.config.id, None)
            self._emit(ServerRemoved(s.config.id, self._clock.time(), name=name, report=None))

        def wipe(doc: dict[str, Any]) -> None:
            for section in (SERVERS, DISCOVERY, REGISTRATIONS, STATUS):
                doc.pop(section, None)

        await self._settings.update(wipe)
        await self._vault.forget_everything()
        self._revocation_next_try.clear()
        log.info("forgot everything (%d server(s))", len(outcome))
        return outcome

    # ------------------------------------------------------------ MCP calls

    def _make_mcp_client(self, s: _Server, provider: TokenProvider) -> McpClientLike:
        if self._mcp_factory is not None:
            return self._mcp_factory(self._http, s.config.url, provider)
        from mcp_auth_desktop.core.mcp import McpClient

        era = memory.remembered_era(s.status)  # the revision that worked last: no probe
        client: McpClientLike = McpClient(self._http, s.config.url, token_provider=provider, era=era)
        return client

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
        :data:`MAX_AUTHORIZATIONS_PER_CALL` authorizations in all, so a server
        that keeps refusing cannot loop us.
        """
        s = self._resolve(ref)
        authorizations = 0
        refreshed_after_401 = False

        async def provider() -> str:
            return await self.get_token(s.config.id)

        async def authorize(
            challenged: tuple[str, ...], challenge: Any, why: str, rediscover: bool = False
        ) -> None:
            nonlocal authorizations
            if rediscover and not interactive:
                # No sign-in now, but look again: if the server moved to another
                # authorization server, the next sign-in must go there (SEP-2352).
                await self._discover(s, challenge=challenge, force=True)
            if not interactive or authorizations >= MAX_AUTHORIZATIONS_PER_CALL:
                raise errors.SignInRequiredError(
                    f"{s.config.name}: {why}. Sign in again."
                )
            authorizations += 1
            async with s.sign_in_lock:
                await self._sign_in(
                    s,
                    on_authorization_url=on_authorization_url,
                    challenged=challenged,
                    challenge=challenge,
                    rediscover=rediscover,
                )

        while True:
            try:
                await self._current_tokens(s)
            except errors.SignInRequiredError:
                await authorize((), None, "not signed in")
                continue
            client = self._make_mcp_client(s, provider)
            try:  # either era; the era and what the server said are remembered in s.status
                save = functools.partial(self._registry.update_status, s.config.id)
                return await memory.call(client, method, params, s.status, save)
            except errors.InsufficientScopeError as exc:
                granted = set(s.granted_scopes) | set(s.status.get("requested_scopes") or ())
                wanted = tuple(sorted(granted | set(exc.scopes)))
                await authorize(
                    wanted, getattr(exc, "challenge", None), "more permissions are needed"
                )
            except errors.InvalidTokenError as exc:
                if not refreshed_after_401:
                    refreshed_after_401 = True
                    try:
                        await self._refresh(s, force=True, min_ttl=0.0)
                        continue
                    except errors.SignInRequiredError:
                        pass
                # Tokens are kept: only invalid_grant proves the grant is gone.
                await self._mark_sign_in_needed(
                    s, "the server refused the token after a refresh", key=None
                )
                # Discovery again first: the server may name another authorization server now.
                await authorize(
                    (), getattr(exc, "challenge", None), "the server refused the token", rediscover=True
                )
            finally:
                closer = getattr(client, "aclose", None)
                if closer is not None:
                    with contextlib.suppress(Exception):
                        await closer()
