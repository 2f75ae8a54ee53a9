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
CallbackListener    core.loopback.LoopbackListener        tests/core/_fakes.py FakeListener
OAuthClientLike     core.flow.OAuthClient                 tests/manager/fakes.py FakeOAuth
McpClientLike       core.mcp.McpClient                    tests/manager/fakes.py FakeMcp
ManagerLike         core.manager.TokenManager             tests/gui/fakes.py FakeManager
==================  ====================================  =====================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Required, TypeAlias, TypedDict, Unpack

from mcp_auth_desktop.core.models import Discovery, ServerConfig, ServerOptions
from mcp_auth_desktop.core.state import ManagerEvent, ServerView

if TYPE_CHECKING:
    # Only for annotations: importing the port must not load the HTTP stack, nor the URL
    # rules server_edit stands on, nor the secret values and reports (the GUI's first frame imports
    # this module).
    import httpx

    from mcp_auth_desktop.core.credentials import ClientRegistration, TokenSet
    from mcp_auth_desktop.core.revocation_text import RevocationReport
    from mcp_auth_desktop.core.server_edit import EditOutcome, ServerEdit

__all__ = ["BrowserOpener", "CallbackListener", "Clock", "HttpClient", "JsonObject", "KeySource",
           "ListenerFactory", "ManagerLike", "McpClientFactory", "McpClientLike", "NewServer",
           "OAuthClientLike", "SecretVault", "SettingsStore", "SignInOptions", "StorageLocation",
           "TokenProvider"]

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


class CallbackListener(Protocol):
    """The loopback redirect endpoint a browser sign-in waits on (RFC 8252 §7.3)."""

    @property
    def redirect_uri(self) -> str: ...

    def expect_state(self, state: str) -> None: ...

    def start_page(self, authorization_url: str) -> str: ...

    async def wait(self) -> dict[str, str]: ...

    def report(self, ok: bool, message: str) -> None: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any: ...


#: Called as ``factory(port=..., timeout=...)``; returns an un-entered listener.
ListenerFactory = Callable[..., CallbackListener]


# --------------------------------------------------------------------------- OAuth and MCP clients


class SignInOptions(TypedDict, total=False):
    """The keyword options of :meth:`OAuthClientLike.sign_in`."""

    #: The scopes to request (``OAuthClientLike.select_scopes``).
    scopes: Required[tuple[str, ...]]
    #: A pre-registered client's secret; None for a public or registered client.
    client_secret: str | None
    #: When given, called with the URL to open instead of opening the browser.
    on_authorization_url: Callable[[str], None] | None
    #: Make a new dynamic registration first (a stale client); default False.
    re_register: bool


class OAuthClientLike(Protocol):
    """The parts of ``core.flow.OAuthClient`` the manager uses."""

    async def discover(self, server: ServerConfig, *, challenge: Any = None) -> Discovery: ...

    def select_scopes(
        self, server: ServerConfig, discovery: Discovery,
        previous: tuple[str, ...] = (), challenged: tuple[str, ...] = (),
    ) -> tuple[str, ...]: ...

    async def sign_in(
        self, server: ServerConfig, discovery: Discovery, registration: ClientRegistration | None,
        **options: Unpack[SignInOptions],
    ) -> tuple[ClientRegistration, TokenSet]: ...

    async def refresh(
        self, discovery: Discovery, registration: ClientRegistration, tokens: TokenSet, *, resource: str | None
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


class NewServer(TypedDict, total=False):
    """The settings of a server being added (:meth:`ManagerLike.add_server`); all optional."""

    #: Shown in lists and used on the command line; default: from the URL, made unique.
    name: str | None
    #: A pre-registered client (with its secret and how it is sent); default: none, the
    #: client is registered at the first sign-in. A secret needs a client id.
    client_id: str | None
    client_secret: str | None
    client_auth_method: str | None
    #: Scopes to ask for beyond what the server advertises; default: ().
    scopes: tuple[str, ...]
    #: Advanced options (resource override, callback port, insecure loopback…).
    options: ServerOptions
    #: Find the authorization server before storing anything; default: True.
    discover: bool


class ManagerLike(Protocol):
    """The token manager as the GUI and the CLI see it (``core.manager.TokenManager``).

    Each method is documented here, once; ``TokenManager`` implements them in the
    modules of ``core/manager/``. A server is named by ``ref``: its id, its name (any
    case) or its URL.
    """

    async def start(self, *, background: bool = True) -> None:
        """Load the servers; with ``background`` also run the refresh loop and watch settings.

        The CLI passes ``background=False``: it serves one command and exits, while
        the GUI (or a daemon) keeps the loop.
        """
        ...

    async def aclose(self) -> None:
        """Cancel every task; the HTTP client, vault and settings stay open (the caller owns them)."""
        ...

    def servers(self) -> list[ServerView]: ...
    def get(self, ref: str) -> ServerView: ...

    def subscribe(self, callback: Callable[[ManagerEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event from now on; returns the way to unsubscribe."""
        ...

    async def add_server(self, url: str, **settings: Unpack[NewServer]) -> ServerView:
        """Add a server; unless ``discover`` is False, find its authorization server first.

        Discovery runs before anything is stored: when it fails (unreachable,
        refused, unusable metadata) its typed error is raised and nothing is
        left behind. To keep such a server for later, add it again with
        ``discover=False`` (the GUI asks first; the CLI has ``--no-discover``).
        """
        ...

    async def sign_in(
        self,
        ref: str,
        *,
        on_authorization_url: Callable[[str], None] | None = None,
        scopes: tuple[str, ...] = (),
        re_register: bool = False,
    ) -> ServerView:
        """Run the browser sign-in, or one with a code when ``on_authorization_url`` is a
        ``DeviceSignIn`` (RFC 8628); ``scopes`` adds challenged scopes (step-up) to the request.

        ``re_register`` makes a new dynamic client registration first (the user's way
        out when the authorization server forgot this app without saying so).
        """
        ...

    async def refresh(self, ref: str, *, force: bool = True) -> ServerView:
        """Refresh now (``force``) or only when the token is due.

        A forced refresh that finds another caller already rotated the token after
        this one was asked for uses that result instead of sending a second request.
        """
        ...

    async def get_token(self, ref: str, *, min_ttl: float = 60.0) -> str:
        """A valid access token, refreshed first when it would expire within ``min_ttl`` s.

        When a refresh fails transiently and the current token is still valid it is
        returned anyway: a flaky token endpoint must not break callers.
        """
        ...

    async def revoke(self, ref: str) -> RevocationReport:
        """Revoke at the server (refresh token, then access token), then delete locally."""
        ...

    async def remove(self, ref: str) -> RevocationReport:
        """Revoke, delete a dynamic registration (RFC 7592) where possible, forget everything."""
        ...

    async def rename(self, ref: str, name: str) -> ServerView: ...

    def server_config(self, ref: str) -> ServerConfig:
        """The stored settings (no secret in them), to pre-fill an edit."""
        ...

    async def has_client_secret(self, ref: str) -> bool:
        """Whether a client secret is stored (its value is never shown)."""
        ...

    async def edit_server(self, ref: str, edit: ServerEdit) -> EditOutcome:
        """Change the scopes, the pre-registered client or the options; says what it means."""
        ...

    async def forget_everything(self, *, revoke: bool = True) -> list[tuple[str, str]]:
        """Remove every server, then delete the vault file, its keyring item and the server list.

        With ``revoke`` each server is removed as by :meth:`remove` first (revocation and
        deregistration at the server); what the servers answer never stops the local
        deletion, which is the point of this action. Returns (server name, outcome) pairs.
        The vault is gone afterwards: the CLI exits and the app closes.
        """
        ...

    async def call(self, ref: str, method: str, params: dict[str, Any] | None = None) -> Any:
        """One authenticated MCP request; returns its JSON-RPC result.

        A refused token is refreshed once; more scopes or a new sign-in are asked for
        only where the implementation is told it may (``core/manager/calls.py``).
        """
        ...

    @property
    def storage_location(self) -> StorageLocation: ...
