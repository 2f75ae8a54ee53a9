"""Where the vault's 256-bit key comes from.

* :class:`KeyringKeyProvider` keeps one random key per vault as one item in
  the OS keyring (one item whatever the number of servers, so macOS asks at
  most once and Windows' 2560-byte limit is never near). Every keyring call
  runs in a daemon thread bounded by a timeout, because Secret Service can
  hang on D-Bus forever; a hung thread is abandoned rather than waited for.
  A new key is read back after writing: a backend that silently drops
  writes would otherwise lose every secret at the next start.
* :class:`PassphraseKeyProvider` derives the key with scrypt from a
  passphrase the user gives once; salt and cost live in the vault header.
* :class:`MemoryKeyProvider` holds a key in memory (tests, benchmarks).

The vault header carries ``key_source`` plus the provider's fields
(``key_id`` or ``kdf``), so a later start knows which provider to use and,
for a passphrase vault, that it must ask for the passphrase.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mcp_auth_desktop.core.errors import (
    KeyringUnavailableError,
    StorageError,
    VaultLockedError,
    WeakPassphraseError,
)

from .base import JsonObject, KeySource

__all__ = [
    "KEY_BYTES",
    "KEYRING_SERVICE",
    "KeyProvider",
    "KeyNotFoundError",
    "BadKeyHeaderError",
    "KeyringKeyProvider",
    "PassphraseKeyProvider",
    "MemoryKeyProvider",
    "call_with_timeout",
    "describe_backend",
]

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEYRING_SERVICE = "mcp-auth-desktop"
_KEY_ID = re.compile(r"^[0-9a-f]{32}$")

T = TypeVar("T")


class KeyNotFoundError(StorageError):
    """The keyring answered, and the vault's key is not there (or is not a key)."""


class BadKeyHeaderError(StorageError):
    """The key fields of a vault header are malformed or out of bounds."""


class KeyProvider(Protocol):
    """Makes and finds vault keys. Methods block (bounded); call them off the event loop."""

    @property
    def key_source(self) -> KeySource: ...

    @property
    def backend(self) -> str:
        """Human description for :class:`StorageLocation`."""
        ...

    def new_key(self) -> tuple[bytes, JsonObject]:
        """A fresh key and the header fields that let :meth:`load_key` find it again."""
        ...

    def load_key(self, header: Mapping[str, Any]) -> bytes:
        """The key for this header. Raises KeyNotFoundError, KeyringUnavailableError,
        VaultLockedError or BadKeyHeaderError."""
        ...

    def wrong_key(self) -> None:
        """The key from :meth:`load_key` did not match the vault (forget cached input)."""
        ...

    def delete_key(self, header: Mapping[str, Any]) -> None: ...


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
        backend = self.probe()
        user = self._username(header)
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


_SCRYPT_LIMITS = {"n": (2**10, 2**20), "r": (1, 32), "p": (1, 16)}


class PassphraseKeyProvider:
    """A key derived with scrypt from the user's passphrase.

    ``passphrase`` is the passphrase or a callable asked once when needed
    (GUI dialog, terminal prompt); returning None or "" means "not given".
    """

    def __init__(
        self,
        passphrase: str | Callable[[], str | None] | None,
        *,
        n: int = 2**15,
        r: int = 8,
        p: int = 1,
        policy: Callable[[str], str | None] | None = None,
    ) -> None:
        self._source = passphrase
        #: Checked when a NEW vault key is made (never on unlock): core/passphrase_policy.
        self._policy = policy
        self._cached: str | None = passphrase if isinstance(passphrase, str) and passphrase else None
        self.n, self.r, self.p = n, r, p
        self._keys: dict[tuple[bytes, int, int, int], bytes] = {}

    def __repr__(self) -> str:
        return f"PassphraseKeyProvider(n={self.n}, r={self.r}, p={self.p})"

    @property
    def key_source(self) -> KeySource:
        return "passphrase"

    @property
    def backend(self) -> str:
        return "passphrase (scrypt)"

    def _passphrase(self) -> str:
        if self._cached:
            return self._cached
        got = self._source() if callable(self._source) else None
        if not got:
            raise VaultLockedError(
                "The secret vault is protected by a passphrase and none was given. Enter it when "
                "asked, or set MCP_AUTH_DESKTOP_PASSPHRASE."
            )
        self._cached = got
        return got

    def _derive(self, salt: bytes, n: int, r: int, p: int) -> bytes:
        cache_key = (salt, n, r, p)
        key = self._keys.get(cache_key)
        if key is None:
            secret = self._passphrase().encode("utf-8")
            key = Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(secret)
            self._keys[cache_key] = key
        return key

    def new_key(self) -> tuple[bytes, JsonObject]:
        problem = self._policy(self._passphrase()) if self._policy else None
        if problem:
            self._cached = None
            raise WeakPassphraseError(
                f"{problem} No vault was created; choose a longer passphrase "
                "(or set MCP_AUTH_DESKTOP_PASSPHRASE to one)."
            )
        salt = secrets.token_bytes(16)
        key = self._derive(salt, self.n, self.r, self.p)
        kdf = {
            "name": "scrypt",
            "salt": base64.b64encode(salt).decode("ascii"),
            "n": self.n,
            "r": self.r,
            "p": self.p,
        }
        return key, {"kdf": kdf}

    def load_key(self, header: Mapping[str, Any]) -> bytes:
        kdf = header.get("kdf")
        if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
            raise BadKeyHeaderError("the vault header names no supported key derivation")
        params: dict[str, int] = {}
        for name, (low, high) in _SCRYPT_LIMITS.items():
            v = kdf.get(name)
            if type(v) is not int or not low <= v <= high:
                raise BadKeyHeaderError(f"the vault header has an invalid scrypt {name}")
            params[name] = v
        if params["n"] & (params["n"] - 1):
            raise BadKeyHeaderError("the vault header has an invalid scrypt n")
        try:
            salt = base64.b64decode(str(kdf.get("salt")), validate=True)
        except (binascii.Error, ValueError):
            raise BadKeyHeaderError("the vault header has an invalid salt") from None
        if not 16 <= len(salt) <= 64:
            raise BadKeyHeaderError("the vault header has an invalid salt")
        return self._derive(salt, params["n"], params["r"], params["p"])

    def wrong_key(self) -> None:
        # The passphrase was wrong: ask again next time instead of retrying it.
        self._keys.clear()
        if callable(self._source):
            self._cached = None
        else:
            self._source = self._cached = None

    def delete_key(self, header: Mapping[str, Any]) -> None:
        return None  # nothing is stored outside the vault file


class MemoryKeyProvider:
    """A fixed key held in memory. Processes sharing ``key`` can share one vault file."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else os.urandom(KEY_BYTES)
        if len(self._key) != KEY_BYTES:
            raise ValueError("a vault key is 32 bytes")

    def __repr__(self) -> str:
        return "MemoryKeyProvider()"

    @property
    def key_source(self) -> KeySource:
        return "memory"

    @property
    def backend(self) -> str:
        return "memory"

    def new_key(self) -> tuple[bytes, JsonObject]:
        return self._key, {"key_id": secrets.token_hex(16)}

    def load_key(self, header: Mapping[str, Any]) -> bytes:
        return self._key

    def wrong_key(self) -> None:
        return None

    def delete_key(self, header: Mapping[str, Any]) -> None:
        return None
