"""Every boundary of the core, each written once as a Protocol.

The core depends on these and on nothing outside itself; the outer layers
implement them (``storage`` the stores, ``core.browser`` the opener, the GUI and
the CLI use :class:`ManagerLike`), and so do the test fakes, which mypy checks
against them (``make typecheck``). A second copy of a contract anywhere else is
a bug: import it from here.

==================  ====================================  =====================================
port                real implementation                   test fakes
==================  ====================================  =====================================
SecretVault         storage.vault.FileVault               storage.memory.MemoryVault
SettingsStore       storage.settings.FileSettings         storage.memory.MemorySettings
Clock               core.models.SystemClock               tests/manager/fakes.py FakeClock
HttpClient          httpx.AsyncClient (plug in at its     httpx.MockTransport / ASGITransport
                    transport)                            (tests/core/_fakes.py FakeAS)
BrowserOpener       core.browser.SystemBrowser,           tests/core/_fakes.py FollowingBrowser
                    core.browser.CallbackBrowser
OAuthClientLike     core.flow.OAuthClient                 tests/manager/fakes.py FakeOAuth
McpClientLike       core.mcp_client.McpClient             tests/manager/fakes.py FakeMcp
ManagerLike         core.manager.TokenManager             tests/gui/fakes.py FakeManager
==================  ====================================  =====================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

from mcp_auth_desktop.core.models import (
    ClientRegistration,
    Discovery,
    ServerConfig,
    ServerOptions,
    TokenSet,
)
from mcp_auth_desktop.core.server_edit import EditOutcome, ServerEdit
from mcp_auth_desktop.core.state import ManagerEvent, RevocationReport, ServerView

if TYPE_CHECKING:
    # Only for annotations: importing the port must not load the HTTP stack (start-up time).
    import httpx

__all__ = [
    "BrowserOpener",
    "Clock",
    "HttpClient",
    "JsonObject",
    "KeySource",
    "ManagerLike",
    "McpClientFactory",
    "McpClientLike",
    "OAuthClientLike",
    "SecretVault",
    "SettingsStore",
    "StorageLocation",
    "TokenProvider",
]

# --------------------------------------------------------------------------- storage

JsonObject = dict[str, Any]

KeySource = Literal["keyring", "passphrase", "memory"]


@dataclass(frozen=True)
class StorageLocation:
    """Where secrets are kept, in words for the GUI and ``mcp-auth status``."""

    key_source: KeySource
    #: e.g. "Secret Service (gnome-keyring)", "macOS Keychain", "passphrase (scrypt)".
    backend: str
    #: Path of the encrypted vault file, or None for memory.
    vault_path: str | None

    def describe(self) -> str:
        if self.key_source == "memory":
            return "in memory only (nothing is saved)"
        where = self.vault_path or "?"
        if self.key_source == "keyring":
            return f"encrypted vault {where}, key in {self.backend}"
        return f"encrypted vault {where}, key derived from your passphrase"


class SecretVault(Protocol):
    """Named JSON objects holding secrets. All methods are safe across processes.

    Every write takes a cross-process lock, re-reads the file, applies the change
    and replaces the file atomically, so concurrent writers never lose one
    another's updates. :meth:`lock` is a separate per-entry lock the manager holds
    across a refresh so a rotating refresh token is sent once.
    """

    @property
    def location(self) -> StorageLocation: ...

    async def get(self, name: str) -> JsonObject | None:
        """The entry's current value, re-read from disk if another process changed it."""
        ...

    async def put(self, name: str, value: JsonObject) -> None:
        """Set one entry (lock, re-read, change, atomic replace)."""
        ...

    async def delete(self, name: str) -> None:
        """Remove one entry; a missing entry is not an error."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every entry whose name starts with ``prefix``; returns the count."""
        ...

    async def names(self) -> list[str]: ...

    def lock(self, name: str) -> AbstractAsyncContextManager[None]:
        """A cross-process lock for one entry, held by the caller across a refresh."""
        ...

    async def forget_everything(self) -> None:
        """Delete the vault file and its keyring item."""
        ...

    async def aclose(self) -> None: ...


class SettingsStore(Protocol):
    """The non-secret settings document (schema-versioned JSON)."""

    @property
    def path(self) -> str | None: ...

    async def load(self) -> JsonObject:
        """The whole document, migrated to the current schema."""
        ...

    async def update(self, change: Callable[[JsonObject], None]) -> JsonObject:
        """Lock, re-read, apply ``change`` in place, write atomically; returns the result."""
        ...

    def watch(self) -> AsyncIterator[JsonObject]:
        """Yields the document each time another process changes it (polling is fine)."""
        ...


# --------------------------------------------------------------------------- time, HTTP, browser


class Clock(Protocol):
    """Time source, injected so tests can move it."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for absolute expiry)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds (for timeouts and scheduling)."""
        ...


#: The HTTP client is httpx's: one shared ``AsyncClient`` passed in through constructors.
#: Its transport is the seam (``httpx.MockTransport``, ``httpx.ASGITransport`` in tests),
#: so no narrower Protocol is written for it.
HttpClient: TypeAlias = "httpx.AsyncClient"


class BrowserOpener(Protocol):
    """Shows the authorization URL to the user (``core.browser`` checks it first)."""

    async def open(self, url: str) -> None: ...


# --------------------------------------------------------------------------- OAuth and MCP clients


class OAuthClientLike(Protocol):
    """The parts of ``core.flow.OAuthClient`` the manager uses."""

    async def discover(self, server: ServerConfig, *, challenge: Any = None) -> Discovery: ...

    def select_scopes(
        self,
        server: ServerConfig,
        discovery: Discovery,
        previous: tuple[str, ...] = (),
        challenged: tuple[str, ...] = (),
    ) -> tuple[str, ...]: ...

    async def sign_in(
        self,
        server: ServerConfig,
        discovery: Discovery,
        registration: ClientRegistration | None,
        *,
        scopes: tuple[str, ...],
        client_secret: str | None = None,
        on_authorization_url: Callable[[str], None] | None = None,
        re_register: bool = False,
    ) -> tuple[ClientRegistration, TokenSet]: ...

    async def refresh(
        self,
        discovery: Discovery,
        registration: ClientRegistration,
        tokens: TokenSet,
        *,
        resource: str | None,
    ) -> TokenSet: ...

    async def revoke(
        self, discovery: Discovery, registration: ClientRegistration, tokens: TokenSet
    ) -> RevocationReport: ...

    async def delete_registration(self, registration: ClientRegistration) -> bool: ...

    def resource_for(self, server: ServerConfig, discovery: Discovery) -> str | None: ...


class McpClientLike(Protocol):
    """The parts of ``core.mcp.McpClient`` the manager uses."""

    async def connect(self) -> Any: ...

    async def initialize(self) -> Any: ...

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


#: Hands the MCP client a current access token (the manager refreshes as needed).
TokenProvider = Callable[[], Awaitable[str]]
McpClientFactory = Callable[["httpx.AsyncClient", str, TokenProvider], McpClientLike]


# --------------------------------------------------------------------------- the manager


class ManagerLike(Protocol):
    """The token manager as the GUI and the CLI see it (``core.manager.TokenManager``)."""

    async def start(self, *, background: bool = True) -> None: ...
    async def aclose(self) -> None: ...
    def servers(self) -> list[ServerView]: ...
    def get(self, ref: str) -> ServerView: ...
    def subscribe(self, callback: Callable[[ManagerEvent], None]) -> Callable[[], None]: ...
    async def add_server(
        self,
        url: str,
        *,
        name: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        client_auth_method: str | None = None,
        scopes: tuple[str, ...] = (),
        options: ServerOptions = ...,
        discover: bool = True,
    ) -> ServerView: ...
    async def sign_in(
        self,
        ref: str,
        *,
        on_authorization_url: Callable[[str], None] | None = None,
        scopes: tuple[str, ...] = (),
        re_register: bool = False,
    ) -> ServerView: ...
    async def refresh(self, ref: str, *, force: bool = True) -> ServerView: ...
    async def get_token(self, ref: str, *, min_ttl: float = 60.0) -> str: ...
    async def revoke(self, ref: str) -> RevocationReport: ...
    async def remove(self, ref: str) -> RevocationReport: ...
    async def rename(self, ref: str, name: str) -> ServerView: ...
    def server_config(self, ref: str) -> ServerConfig:
        """The stored settings (no secret in them), to pre-fill an edit."""
        ...
    async def has_client_secret(self, ref: str) -> bool:
        """Whether a client secret is stored (its value is never shown)."""
        ...
    async def edit_server(self, ref: str, edit: ServerEdit) -> EditOutcome: ...
    async def forget_everything(self, *, revoke: bool = True) -> list[tuple[str, str]]: ...
    async def call(self, ref: str, method: str, params: dict[str, Any] | None = None) -> Any: ...
    @property
    def storage_location(self) -> StorageLocation: ...
