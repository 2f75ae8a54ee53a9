"""Opening the storage: which vault key source to use (see :mod:`mcp_auth_desktop.storage`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_auth_desktop.core.childenv import secret_env
from mcp_auth_desktop.core.errors import ConfigurationError, KeyringUnavailableError
from mcp_auth_desktop.core.passphrase_policy import creation_problem

if TYPE_CHECKING:
    from .base import SecretVault, SettingsStore
    from .settings import FileSettings

__all__ = [
    "KEYRING_ENV",
    "PASSPHRASE_ENV",
    "KeyringVaultUnavailableError",
    "open_settings",
    "open_storage",
    "open_storage_async",
]

log = logging.getLogger("mcp_auth_desktop.storage")

KEYRING_ENV = "MCP_AUTH_DESKTOP_KEYRING"
PASSPHRASE_ENV = "MCP_AUTH_DESKTOP_PASSPHRASE"
_MODES = ("auto", "keyring", "passphrase", "memory")


class KeyringVaultUnavailableError(KeyringUnavailableError):
    """The existing vault's key is in the OS keyring, which is unusable now.

    Unlike a plain KeyringUnavailableError from :func:`open_storage` (no vault
    yet: a passphrase would do), asking for a passphrase cannot help here.
    """


def _passphrase_source(
    provider: Callable[[], str | None] | None,
) -> Callable[[], str | None]:
    asked: list[str | None] = []

    def source() -> str | None:
        env = secret_env(PASSPHRASE_ENV)
        if env:
            return env
        if provider is None:
            return None
        if not asked:  # ask the user once, however often the answer is needed
            asked.append(provider())
        return asked[0]

    return source


def open_settings(home: Path | None = None) -> FileSettings:
    """The settings file under ``home`` alone: no vault, no keyring, no cipher.

    What the GUI's first frame is drawn from, before :func:`open_storage` (which may
    wait for a keyring's unlock prompt) opens the vault. Raises UnsafePathError.
    """
    from .paths import app_paths
    from .settings import FileSettings

    paths = app_paths(home)
    paths.ensure()
    return FileSettings(paths)


def open_storage(
    home: Path | None = None,
    *,
    passphrase_provider: Callable[[], str | None] | None = None,
    keyring_timeout: float = 5.0,
    keyring_backend: Any | None = None,
    scrypt_n: int = 2**15,
) -> tuple[SecretVault, SettingsStore]:
    """Open (or create) the vault and settings under ``home`` (see the module doc).

    Blocks for at most about ``keyring_timeout`` per keyring call; call it
    before the event loop runs, or through :func:`open_storage_async`.
    ``passphrase_provider`` is called at most once, only when a passphrase is
    needed and ``MCP_AUTH_DESKTOP_PASSPHRASE`` is not set.
    ``keyring_backend`` replaces ``keyring.get_keyring()`` (tests).

    Raises KeyringUnavailableError (no vault yet, no usable keyring and no
    passphrase: ask for one and call again), KeyringVaultUnavailableError (its
    subclass: the existing vault's key is in a keyring that is unusable now;
    a passphrase cannot help), VaultLockedError (passphrase missing or wrong:
    ask and call again), UnsafePathError,
    StorageWriteError. A damaged vault does not raise: it is moved aside and
    ``vault.corruption`` says so.
    """
    from .memory import MemoryVault
    from .paths import app_paths
    from .settings import FileSettings

    paths = app_paths(home)
    paths.ensure()
    settings = FileSettings(paths)
    mode = os.environ.get(KEYRING_ENV, "auto").strip().lower() or "auto"
    if mode not in _MODES:
        raise ConfigurationError(f"{KEYRING_ENV} must be one of {', '.join(_MODES)}, not {mode!r}.")
    if mode == "memory":
        log.info("secrets are kept in memory only (%s=memory)", KEYRING_ENV)
        return MemoryVault(), settings
    # Only a vault file needs the cipher and the key providers (keyring back ends).
    from .keys import KeyProvider, KeyringKeyProvider, MemoryKeyProvider, PassphraseKeyProvider
    from .vault import FileVault, read_header

    source = _passphrase_source(passphrase_provider)

    def passphrase() -> PassphraseKeyProvider:
        return PassphraseKeyProvider(source, n=scrypt_n, policy=creation_problem)

    def keyring_provider() -> KeyringKeyProvider:
        return KeyringKeyProvider(keyring_backend, timeout=keyring_timeout)

    header = read_header(paths.vault_file)
    provider: KeyProvider
    if header is not None:
        existing = header.get("key_source")
        if existing == "passphrase":
            provider = passphrase()
        elif existing == "keyring":
            provider = keyring_provider()
        else:
            # A memory-key vault cannot be opened by a new process: it is moved aside.
            provider = MemoryKeyProvider()
        vault = FileVault(paths, provider)
        try:
            vault.open_sync()
        except KeyringUnavailableError as exc:
            raise KeyringVaultUnavailableError(
                f"{exc.message} Your secrets are in {paths.vault_file}, whose key is kept in the "
                f"OS keyring, so a passphrase cannot open it: make the keyring available and try "
                f"again (or delete that file to start over; servers then need to sign in again)."
            ) from None
        return vault, settings

    if mode == "passphrase":
        vault = FileVault(paths, passphrase())
        vault.open_sync()
        return vault, settings

    try:
        vault = FileVault(paths, keyring_provider())
        vault.open_sync()
        return vault, settings
    except KeyringUnavailableError as exc:
        if mode == "keyring" or not source():
            raise KeyringUnavailableError(
                f"{exc.message} Secrets are never stored in plain text: set {PASSPHRASE_ENV}, "
                f"or run mcp-auth in a terminal to be asked for a passphrase, to keep them in a "
                f"file encrypted with a key derived from your passphrase."
            ) from None
        log.warning(
            "%s Using a vault key derived from your passphrase instead; it is needed at every "
            "start.",
            exc.message,
        )
    vault = FileVault(paths, passphrase())
    vault.open_sync()
    return vault, settings


async def open_storage_async(
    home: Path | None = None,
    *,
    passphrase_provider: Callable[[], str | None] | None = None,
    keyring_timeout: float = 5.0,
    keyring_backend: Any | None = None,
) -> tuple[SecretVault, SettingsStore]:
    """:func:`open_storage` in a worker thread, so a slow keyring never blocks the loop.

    ``passphrase_provider`` then runs in that worker thread: a GUI should
    rather catch VaultLockedError / KeyringUnavailableError, ask on its own
    thread, and call again with ``passphrase_provider=lambda: answer``.
    """
    import asyncio

    return await asyncio.to_thread(
        open_storage,
        home,
        passphrase_provider=passphrase_provider,
        keyring_timeout=keyring_timeout,
        keyring_backend=keyring_backend,
    )
