"""The one wiring of the application: settings, storage, the HTTP client, the manager.

The GUI (``gui/app.py``), the command line (``cli/runner.py``) and the self-test
(``gui/self_test.py``) all build what they run on with :func:`open_runtime` and
close it with :meth:`Runtime.aclose`; ``mcp-auth bridge`` (``bridge/run.py``), which
re-reads the store into a fresh manager after another process changed it, opens its
storage, client and managers with :func:`open_storage`, :func:`make_http` and
:func:`start_manager`. Layers: gui and cli → runtime → storage,
core (pyproject.toml's import-linter contracts).

Opening storage is separate (:func:`open_storage`) because the GUI asks for a
passphrase or a keyring retry between attempts; it then hands the open stores in.
Heavy modules (the HTTP stack, the manager, cryptography through storage) are
imported when called, not when this module is, so the GUI can show its first
frame before loading them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast, overload

from mcp_auth_desktop.core.ports import BrowserOpener, ManagerLike, SecretVault, SettingsStore
from mcp_auth_desktop.core.state import ManagerEvent

if TYPE_CHECKING:
    import httpx

    from mcp_auth_desktop.core.manager import TokenManager
    from mcp_auth_desktop.storage.audit import AuditLog
    from mcp_auth_desktop.storage.settings import FileSettings

__all__ = ["ManagerFactory", "Runtime", "Storage", "open_runtime", "open_settings", "open_storage",
           "make_http", "skip_httpx_command_line", "start_manager"]

Storage = tuple[SecretVault, SettingsStore]
Listener = Callable[[ManagerEvent], None]
M = TypeVar("M", bound=ManagerLike)
M_co = TypeVar("M_co", bound=ManagerLike, covariant=True)


class ManagerFactory(Protocol[M_co]):
    """Builds the manager from the runtime's parts (``TokenManager`` itself is one)."""

    def __call__(self, *, http: httpx.AsyncClient, vault: SecretVault,
                 settings: SettingsStore) -> M_co: ...


@dataclass
class Runtime(Generic[M]):
    """What one run of the app (or one CLI command) works with; the caller owns it."""

    vault: SecretVault
    settings: SettingsStore
    http: httpx.AsyncClient
    manager: M
    #: The secret-free audit trail, kept when storage is saved (not in memory only).
    audit: AuditLog | None = None

    async def aclose(self) -> None:
        """Manager first (its tasks use the others), then the HTTP client, then the vault."""
        try:
            await self.manager.aclose()
        finally:
            try:
                await self.http.aclose()
            finally:
                await self.vault.aclose()


async def open_storage(*, ephemeral: bool = False,
                       passphrase_provider: Callable[[], str | None] | None = None,
                       keyring_timeout: float = 5.0) -> Storage:
    """The vault and the settings: in memory (``ephemeral``), else the user's files.

    Raises what :func:`mcp_auth_desktop.storage.open_storage` raises (keyring
    unavailable, vault locked) for the caller to ask the user and try again.
    """
    if ephemeral:
        from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault

        return MemoryVault(), MemorySettings()
    from mcp_auth_desktop.storage import open_storage_async

    return await open_storage_async(passphrase_provider=passphrase_provider,
                                    keyring_timeout=keyring_timeout)


def open_settings() -> FileSettings:
    """The user's settings file alone (no vault, no keyring): what a first frame shows
    (``load_sync`` reads it before any event loop runs)."""
    from mcp_auth_desktop.storage import open_settings as open_settings_file

    return open_settings_file()


@overload
async def open_runtime(*, storage: Storage | None = None, ephemeral: bool = False,
                       passphrase_provider: Callable[[], str | None] | None = None,
                       http: httpx.AsyncClient | None = None,
                       browser: BrowserOpener | None = None, audit: bool | None = None,
                       background: bool = True, listeners: Sequence[Listener] = (),
                       manager_factory: None = None,
                       ) -> Runtime[TokenManager]: ...


@overload
async def open_runtime(*, storage: Storage | None = None, ephemeral: bool = False,
                       passphrase_provider: Callable[[], str | None] | None = None,
                       http: httpx.AsyncClient | None = None,
                       browser: BrowserOpener | None = None, audit: bool | None = None,
                       background: bool = True, listeners: Sequence[Listener] = (),
                       manager_factory: ManagerFactory[M],
                       ) -> Runtime[M]: ...


async def open_runtime(*, storage: Storage | None = None, ephemeral: bool = False,
                       passphrase_provider: Callable[[], str | None] | None = None,
                       http: httpx.AsyncClient | None = None,
                       browser: BrowserOpener | None = None, audit: bool | None = None,
                       background: bool = True, listeners: Sequence[Listener] = (),
                       manager_factory: ManagerFactory[M] | None = None,
                       ) -> Runtime[TokenManager] | Runtime[M]:
    """Open storage (unless given), the shared HTTP client and the manager, and start it.

    ``audit``: keep the audit trail (default: when secrets are saved, not in memory).
    ``background``: run the refresh loop (the GUI); the CLI serves one command.
    ``listeners``: subscribed before the manager starts, so they see what loading does.
    On failure everything opened so far is closed again.
    """
    vault, settings = storage or await open_storage(ephemeral=ephemeral,
                                                    passphrase_provider=passphrase_provider)
    client: httpx.AsyncClient | None = http
    try:
        if client is None:
            client = make_http()
        if manager_factory is None:
            from mcp_auth_desktop.core.manager import TokenManager

            real = Runtime(vault, settings, client,
                           TokenManager(http=client, vault=vault, settings=settings, browser=browser))
        else:
            given = Runtime(vault, settings, client,
                            manager_factory(http=client, vault=vault, settings=settings))
    except BaseException:
        if client is not None:
            await client.aclose()
        await vault.aclose()
        raise
    if manager_factory is None:
        return await _started(real, audit, background, listeners)
    return await _started(given, audit, background, listeners)


async def _started(runtime: Runtime[M], audit: bool | None, background: bool,
                   listeners: Sequence[Listener]) -> Runtime[M]:
    try:
        for listener in listeners:
            runtime.manager.subscribe(listener)
        await runtime.manager.start(background=background)
        if audit if audit is not None else runtime.vault.location.key_source != "memory":
            from mcp_auth_desktop.storage.audit import AuditLog
            from mcp_auth_desktop.storage.paths import app_paths

            # Subscribed after start: loading the servers re-derives their states, which
            # records nothing new; what the run (or the one CLI command) does is recorded.
            runtime.audit = AuditLog(app_paths().audit_file)
            runtime.manager.subscribe(runtime.audit.record)
    except BaseException:
        await runtime.aclose()
        raise
    return runtime


def make_http() -> httpx.AsyncClient:
    """The shared HTTP client (``core/http.py``), made with its first use.

    A :class:`~mcp_auth_desktop.core.deferred_http.DeferredClient`: httpx is loaded, and
    the client made, when the manager first sends a request (or the caller first reads
    one of its attributes), not when the runtime opens; it then is that client, attribute
    for attribute, so it is handed out as one (the cast).
    """
    from mcp_auth_desktop.core.deferred_http import DeferredClient

    return cast("httpx.AsyncClient", DeferredClient(_make_http_client))


def _make_http_client() -> httpx.AsyncClient:
    skip_httpx_command_line()  # without httpx's command line
    from mcp_auth_desktop.core.http import make_http_client

    return make_http_client()


async def start_manager(storage: Storage, http: httpx.AsyncClient, *,
                        browser: BrowserOpener | None = None,
                        background: bool = True) -> TokenManager:
    """A started TokenManager over open stores and a client that the caller keeps owning
    (closing the manager closes neither)."""
    from mcp_auth_desktop.core.manager import TokenManager

    vault, settings = storage
    manager = TokenManager(http=http, vault=vault, settings=settings, browser=browser)
    await manager.start(background=background)
    return manager


def skip_httpx_command_line() -> None:
    """Keep httpx from importing its own command line when it loads.

    ``import httpx`` also imports ``httpx._main`` (click, rich, pygments) whenever those
    happen to be installed, as in a development venv: about 150 ms and 5 MiB that the app
    never uses. The frozen bundle leaves the module out for the same reason
    (packaging/spec_support.py); httpx then offers a stub ``httpx.main``.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

