"""What every part of the manager shares: its collaborators, the servers, and its events.

The parts (``loading``, ``servers``, ``sign_in``, ``refresh``, ``background``,
``revocation``, ``removal``, ``calls``) are functions over one ``ManagerState``;
``TokenManager`` is that state plus the public API.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp_auth_desktop.core import errors, migration
from mcp_auth_desktop.core.events import LogEvent, StateChanged
from mcp_auth_desktop.core.lifecycle import check_transition
from mcp_auth_desktop.core.manager.record import ServerRecord, normalize_server_url, same_url
from mcp_auth_desktop.core.models import ServerOptions, SystemClock
from mcp_auth_desktop.core.ports import (
    BrowserOpener,
    Clock,
    McpClientFactory,
    OAuthClientLike,
    SecretVault,
    SettingsStore,
    StorageLocation,
)
from mcp_auth_desktop.core.refresh_record import RefreshRecorder
from mcp_auth_desktop.core.registry import Registry
from mcp_auth_desktop.core.scheduler import ClockJumpDetector
from mcp_auth_desktop.core.server_status import StatusChange
from mcp_auth_desktop.core.state import ManagerEvent, ServerState

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mcp_auth_desktop.core.manager")


class ManagerState:
    """The manager's shared state and the events it emits."""

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
        self._servers: dict[str, ServerRecord] = {}
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

    @property
    def oauth(self) -> OAuthClientLike:
        if self._oauth is None:
            from mcp_auth_desktop.core.flow import OAuthClient

            self._oauth = OAuthClient(self._http, clock=self._clock, browser=self._browser)
        return self._oauth

    @property
    def storage_location(self) -> StorageLocation:
        return self._vault.location

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(f"mcp-auth:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _emit(self, event: ManagerEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a broken observer must not break the manager
                log.exception("event subscriber failed on %s", type(event).__name__)

    def _set_state(self, s: ServerRecord, new: ServerState) -> None:
        old = s.state
        if old is new:
            return
        check_transition(old, new)
        s.state = new
        log.debug("server %s: %s -> %s", s.config.name, old.value, new.value)
        self._emit(StateChanged(s.config.id, self._clock.time(), old=old, new=new))

    async def _change_status(self, s: ServerRecord, change: StatusChange) -> None:
        """Write ``change`` to the stored status, then apply the same change to the record's copy."""
        await self._registry.update_status(s.config.id, change)
        s.status = change(s.status)

    def _note(self, s: ServerRecord | None, level: str, message: str, server_id: str = "") -> None:
        sid = s.config.id if s else server_id
        self._emit(LogEvent(sid, self._clock.time(), level=level, message=message))

    def _resolve(self, ref: str) -> ServerRecord:
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
                if same_url(s.config.url, url):
                    return s
        raise errors.ServerNotFoundError(
            f"No server named {errors.sanitize_server_text(text, 120)!r}: "
            "check its name, id or URL in the list of servers."
        )

    def _migration_note(self, s: ServerRecord, level: str, message: str) -> None:
        self._emit(migration.MigrationNote(s.config.id, self._clock.time(), level=level, message=message))
