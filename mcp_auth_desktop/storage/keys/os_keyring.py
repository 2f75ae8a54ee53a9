"""The vault key as one item in the OS keyring, every call bounded by a timeout.

One random key per vault, one item whatever the number of servers (macOS asks at
most once; Windows' 2560-byte limit is never near). Secret Service can hang on
D-Bus forever, so each call runs in a daemon thread and is abandoned, not waited
for, after the timeout. A new key is read back after writing: a backend that
silently drops writes would otherwise lose every secret at the next start.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mcp_auth_desktop.core.errors import KeyringUnavailableError

from ..base import JsonObject, KeySource
from .provider import KEY_BYTES, BadKeyHeaderError, KeyNotFoundError

__all__ = ["KEYRING_SERVICE", "KeyringKeyProvider", "call_with_timeout", "describe_backend"]

log = logging.getLogger("mcp_auth_desktop.storage.keys")

KEYRING_SERVICE = "mcp-auth-desktop"
_KEY_ID = re.compile(r"^[0-9a-f]{32}$")

T = TypeVar("T")


def call_with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``fn`` in a daemon thread; raise KeyringUnavailableError after ``timeout`` s.

    A daemon thread (not an executor) so a call that never returns cannot
    keep the process alive at exit.
    """
    result: list[T] = []
    error: list[BaseException] = []
    done = threading.Event()

    def runner() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # handed to the caller below
            error.append(exc)
        finally:
            done.set()

    threading.Thread(target=runner, name=f"keyring-{what}", daemon=True).start()
    if not done.wait(timeout):
        raise KeyringUnavailableError(
            f"The OS keyring did not answer within {timeout:g} s ({what}). It may be locked "
            f"or hung; unlock it, or use a passphrase instead (MCP_AUTH_DESKTOP_PASSPHRASE)."
        )
    if error:
        raise error[0]
    return result[0]


def describe_backend(backend: object) -> str:
    """A name a user recognises for a ``keyring`` backend object."""
    module = type(backend).__module__
    names = {
        "keyring.backends.macOS": "macOS Keychain",
        "keyring.backends.Windows": "Windows Credential Manager",
        "keyring.backends.SecretService": "Secret Service (GNOME Keyring, KWallet or KeePassXC)",
        "keyring.backends.libsecret": "Secret Service (libsecret)",
        "keyring.backends.kwallet": "KWallet",
        "keyring.backends.chainer": "OS keyring",
    }
    for prefix, name in names.items():
        if module.startswith(prefix):
            return name
    return str(getattr(backend, "name", type(backend).__name__))


def _unusable(backend: object) -> str | None:
    """Why this backend cannot hold a key, or None when it may."""
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring):
        return "no OS keyring was found"
    if isinstance(backend, null.Keyring):
        return "the keyring is configured to discard everything (null backend)"
    if type(backend).__module__.startswith("keyring.backends.chainer") and not getattr(
        backend, "backends", True
    ):
        return "no OS keyring was found"
    return None


def _keyring_failure(what: str, exc: BaseException) -> KeyringUnavailableError:
    # Only the exception type: a backend's message could in theory echo the value.
    log.debug("keyring %s failed: %s", what, type(exc).__name__)
    return KeyringUnavailableError(
        f"The OS keyring refused to {what} ({type(exc).__name__}). Unlock it, or use a "
        f"passphrase instead (MCP_AUTH_DESKTOP_PASSPHRASE)."
    )


def _read_directly(service: str, user: str, header: Mapping[str, Any], timeout: float) -> bytes | None:
    """The vault key read straight from the Secret Service, or None: ask ``keyring``.

    ``import keyring`` loads every backend and, to find them, the metadata of every
    installed distribution (importlib_metadata, email): about 6 MiB resident in the
    desktop app, at every start, for one read. Where ``keyring`` would itself use the
    Secret Service (``secret_service.usable_here``), the key is read as ``mcp-auth
    token`` reads it (``storage/secret_service.py``, jeepney, an encrypted session).
    The answer is used only when it opens this vault (its key check, as
    :class:`~..vault_file.VaultFile` checks it); anything else (no answer, a locked
    collection, an absent item, another key) goes the usual way through ``keyring``,
    which prompts, and reports, as before.
    """
    from .. import secret_service

    if not secret_service.usable_here():
        return None
    try:
        key = secret_service.read_key(service, user, timeout=min(timeout, 2.0))
    except secret_service.SecretServiceMiss as exc:
        log.debug("direct Secret Service read missed (%s); asking keyring", exc)
        return None
    from ..vault_format import key_opens

    if key is None or len(key) != KEY_BYTES or not key_opens(key, header):
        return None
    return key


class KeyringKeyProvider:
    """The vault key as one item (``mcp-auth-desktop`` / ``vault-key-<id>``) in the OS keyring."""

    def __init__(
        self,
        backend: Any | None = None,
        *,
        timeout: float = 5.0,
        service: str = KEYRING_SERVICE,
    ) -> None:
        self._backend: Any | None = backend
        self.timeout = timeout
        self.service = service

    def __repr__(self) -> str:
        return f"KeyringKeyProvider(backend={self.backend!r}, timeout={self.timeout:g})"

    @property
    def key_source(self) -> KeySource:
        return "keyring"

    @property
    def backend(self) -> str:
        return describe_backend(self._backend) if self._backend is not None else "OS keyring"

    def probe(self) -> Any:
        """Resolve the keyring backend (bounded) and refuse one that cannot hold a key."""
        if self._backend is None:
            import keyring

            try:
                self._backend = call_with_timeout(keyring.get_keyring, self.timeout, "start")
            except KeyringUnavailableError:
                raise
            except Exception as exc:
                raise _keyring_failure("start", exc) from None
        reason = _unusable(self._backend)
        if reason:
            raise KeyringUnavailableError(
                f"No usable OS keyring: {reason}. Start a Secret Service (GNOME Keyring, "
                f"KWallet) or use a passphrase instead (MCP_AUTH_DESKTOP_PASSPHRASE)."
            )
        return self._backend

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return call_with_timeout(fn, self.timeout, what)
        except KeyringUnavailableError:
            raise
        except Exception as exc:
            raise _keyring_failure(what, exc) from None

    @staticmethod
    def _username(header: Mapping[str, Any]) -> str:
        key_id = header.get("key_id")
        if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
            raise BadKeyHeaderError("the vault header has no valid key id")
        return f"vault-key-{key_id}"

    def new_key(self) -> tuple[bytes, JsonObject]:
        backend = self.probe()
        key = secrets.token_bytes(KEY_BYTES)
        fields: JsonObject = {"key_id": secrets.token_hex(16)}
        user = self._username(fields)
        encoded = base64.b64encode(key).decode("ascii")
        self._call("save the vault key", lambda: backend.set_password(self.service, user, encoded))
        stored = self._call("read the vault key", lambda: backend.get_password(self.service, user))
        if stored != encoded:
            try:
                self._call("remove the vault key", lambda: backend.delete_password(self.service, user))
            except Exception as exc:  # the key never worked; its item is harmless
                log.debug("cleanup of a dropped key failed: %s", type(exc).__name__)
            raise KeyringUnavailableError(
                f"The OS keyring ({self.backend}) accepted the vault key but did not keep it. "
                f"Refusing to store secrets whose key would be lost; fix the keyring or use a "
                f"passphrase instead (MCP_AUTH_DESKTOP_PASSPHRASE)."
            )
        return key, fields

    def load_key(self, header: Mapping[str, Any]) -> bytes:
        user = self._username(header)
        if self._backend is None:  # keyring's own choice (tests hand in a backend)
            direct = _read_directly(self.service, user, header, self.timeout)
            if direct is not None:
                return direct
        backend = self.probe()
        stored = self._call("read the vault key", lambda: backend.get_password(self.service, user))
        if stored is None:
            raise KeyNotFoundError("its key is no longer in the OS keyring")
        try:
            key = base64.b64decode(stored, validate=True)
        except (binascii.Error, ValueError):
            raise KeyNotFoundError("the keyring item holding its key is damaged") from None
        if len(key) != KEY_BYTES:
            raise KeyNotFoundError("the keyring item holding its key is damaged")
        return key

    def wrong_key(self) -> None:
        return None

    def delete_key(self, header: Mapping[str, Any]) -> None:
        from keyring.errors import PasswordDeleteError

        backend = self.probe()
        user = self._username(header)

        def delete() -> None:
            try:
                backend.delete_password(self.service, user)
            except PasswordDeleteError:
                pass  # already gone: that is what we wanted

        self._call("remove the vault key", delete)
