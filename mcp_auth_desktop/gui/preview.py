"""The server list as the settings file has it, for the first frame.

The window and the tray are shown from this read-only stand-in for the manager
while the runtime (the HTTP stack and the TokenManager, which reads every server's
tokens) is still being opened; :meth:`ManagerBridge.attach` then swaps in the real
manager and every row is repainted from it. Nothing here reads a secret, and an
action started meanwhile is refused with a message saying so.

Until the vault is open no server's state can be known (its tokens are in the vault):
each row is LOCKED, saying what the app waits for (:meth:`SettingsPreview.set_waiting`,
told by ``vault_unlock.py``): opening the vault, the keyring's unlock prompt, the
keyring refusing to unlock (the user is offered Try again), or a passphrase.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Unpack

from mcp_auth_desktop.core.errors import ManagerError, ServerNotFoundError
from mcp_auth_desktop.core.models import ServerConfig
from mcp_auth_desktop.core.ports import JsonObject, NewServer, StorageLocation
from mcp_auth_desktop.core.server_status import ServerStatus
from mcp_auth_desktop.core.snapshot import snapshot_from_document
from mcp_auth_desktop.core.state import ManagerEvent, ServerState, ServerView

if TYPE_CHECKING:
    from mcp_auth_desktop.core.revocation_text import RevocationReport
    from mcp_auth_desktop.core.server_edit import EditOutcome, ServerEdit

__all__ = ["KEYRING_LOCKED", "OPENING", "PASSPHRASE", "SettingsPreview", "WAITING_FOR_KEYRING"]

#: What a locked row says the app waits for (its state cell, the tray's tooltip).
OPENING = "opening your tokens…"
WAITING_FOR_KEYRING = "waiting for the keyring"
KEYRING_LOCKED = "the keyring did not unlock: unlock it, then Try again"
PASSPHRASE = "waiting for your passphrase"

_STARTING = "The app is still loading your servers; try again in a moment."
#: While the vault is still opening (the keyring may be waiting for its unlock prompt).
VAULT_OPENING = ("Your tokens are still locked: the app is waiting for the system keyring "
                 "(or your passphrase) to open them.")


class SettingsPreview:
    """:class:`~mcp_auth_desktop.core.ports.ManagerLike` over the settings document alone."""

    def __init__(self, document: JsonObject, location: StorageLocation | None) -> None:
        """``location`` None: the vault is not open yet (shown as such, nothing read)."""
        snap = snapshot_from_document(document)
        self._location = location
        self._subscribers: list[Callable[[ManagerEvent], None]] = []
        self._views: dict[str, ServerView] = {}
        self._configs = {config.id: config for config in snap.servers}
        for config in snap.servers:
            found = snap.discovery.get(config.id)
            status = snap.status.get(config.id, ServerStatus())
            registration = snap.registrations.get(config.id)
            self._views[config.id] = ServerView(
                id=config.id, name=config.name, url=config.url,
                state=(ServerState.LOCKED if location is None
                       else ServerState.REFRESHING if found else ServerState.NEW),
                locked_because=OPENING if location is None else None,
                issuer=found.auth_server.issuer if found else None,
                resource=found.resource if found else None,
                registration_method=registration.method if registration else None,
                client_id=(registration.client_id if registration else None) or config.client_id,
                requested_scopes=status.requested_scopes or config.scopes,
                last_error=status.last_error,
                last_refresh_at=status.last_refresh_at,
                last_refresh_result=status.last_refresh_result,
                pending_revocation=status.pending_revocation,
                discovery_trail=found.trail if found else (),
            )

    # -- what the window reads ---------------------------------------------------------

    def servers(self) -> list[ServerView]:
        return list(self._views.values())

    def get(self, ref: str) -> ServerView:
        try:
            return self._views[ref]
        except KeyError:
            raise ServerNotFoundError(f"No server {ref!r}.") from None

    def server_config(self, ref: str) -> ServerConfig:
        self.get(ref)  # the same "no server" error
        return self._configs[ref]

    def subscribe(self, callback: Callable[[ManagerEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def set_waiting(self, because: str) -> None:
        """Say what the app waits for now on every locked row (e.g. WAITING_FOR_KEYRING)."""
        # Here, not at the top: the first frame needs no event (core/events.py).
        from mcp_auth_desktop.core.events import ServerUpdated

        now = time.time()
        for sid, view in list(self._views.items()):
            if view.state is ServerState.LOCKED and view.locked_because != because:
                self._views[sid] = replace(view, locked_because=because)
                for callback in list(self._subscribers):
                    callback(ServerUpdated(sid, now))

    @property
    def storage_location(self) -> StorageLocation:
        if self._location is None:
            raise ManagerError(VAULT_OPENING)
        return self._location

    # -- actions: refused until the manager is there -----------------------------------

    async def start(self, *, background: bool = True) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def add_server(self, url: str, **settings: Unpack[NewServer]) -> ServerView:
        raise ManagerError(_STARTING)

    async def sign_in(self, ref: str, *, on_authorization_url: Callable[[str], None] | None = None,
                      scopes: tuple[str, ...] = (), re_register: bool = False) -> ServerView:
        raise ManagerError(_STARTING)

    async def refresh(self, ref: str, *, force: bool = True) -> ServerView:
        raise ManagerError(_STARTING)

    async def get_token(self, ref: str, *, min_ttl: float = 60.0) -> str:
        raise ManagerError(_STARTING)

    async def revoke(self, ref: str) -> RevocationReport:
        raise ManagerError(_STARTING)

    async def remove(self, ref: str) -> RevocationReport:
        raise ManagerError(_STARTING)

    async def forget_everything(self, *, revoke: bool = True) -> list[tuple[str, str]]:
        raise ManagerError(_STARTING)

    async def rename(self, ref: str, name: str) -> ServerView:
        raise ManagerError(_STARTING)

    async def call(self, ref: str, method: str, params: dict[str, Any] | None = None) -> Any:
        raise ManagerError(_STARTING)

    async def has_client_secret(self, ref: str) -> bool:
        raise ManagerError(_STARTING)

    async def edit_server(self, ref: str, edit: ServerEdit) -> EditOutcome:
        raise ManagerError(_STARTING)
