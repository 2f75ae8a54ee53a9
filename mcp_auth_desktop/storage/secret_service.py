"""One read from the freedesktop Secret Service, without importing ``keyring``.

``mcp-auth token`` runs once per client connection, so its cached path must
start fast; ``import keyring`` alone costs several times a bare Python start
(it loads every backend, and on Linux the macOS one runs ``find_library``).
This module talks the Secret Service D-Bus API directly through ``jeepney``
(which ``keyring``'s own Secret Service backend already depends on) and does
the same lookup as that backend's ``get_password``: the ``default`` collection,
items whose attributes are ``service`` and ``username``, the first match.

The secret travels in a ``dh-ietf1024-sha256-aes128-cbc-pkcs7`` session, as
with ``keyring``/SecretStorage, so the vault key never crosses the bus in
clear. Nothing here unlocks or prompts: a locked collection or item, an
absent or slow service, or anything unexpected raises
:class:`SecretServiceMiss`, and the caller then goes through ``keyring``
itself (which prompts and reports errors the usual way).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import sys
from typing import Any

__all__ = ["SecretServiceMiss", "read_key", "read_secret", "usable_here"]

_BUS_NAME = "org.freedesktop.secrets"
_SERVICE_PATH = "/org/freedesktop/secrets"
_PREFIX = "org.freedesktop.Secret."
_ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
# RFC 2409 section 6.2, the Second Oakley Group (1024-bit MODP), generator 2: the group the
# Secret Service specification names for this algorithm.
_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)
_PRIME_BYTES = 128


class SecretServiceMiss(Exception):
    """The direct read did not give an answer; ask ``keyring`` instead. Never holds a secret."""


def usable_here() -> bool:
    """Whether ``keyring`` would pick the Secret Service by itself on this machine.

    Linux with a session bus, and no keyring choice made by the user
    (``PYTHON_KEYRING_BACKEND`` or a ``keyringrc.cfg``), which could name
    another backend. A wrong guess costs only time: the key read here is
    checked against the vault header, and a miss goes through ``keyring``.
    """
    if not sys.platform.startswith("linux") or not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return False
    root = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return not os.path.exists(os.path.join(root, "python_keyring", "keyringrc.cfg"))


def _hkdf_sha256(ikm: bytes, length: int) -> bytes:
    # RFC 5869 with no salt (a zero-filled one) and empty info, as the algorithm specifies.
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    return hmac.new(prk, b"\x01", hashlib.sha256).digest()[:length]


class _Bus:
    def __init__(self, timeout: float) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self.timeout = timeout
        self.conn: Any = open_dbus_connection(bus="SESSION", auth_timeout=timeout)

    def call(self, path: str, interface: str, method: str, sig: str | None, *body: Any) -> Any:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        address = DBusAddress(path, bus_name=_BUS_NAME, interface=interface)
        reply = self.conn.send_and_get_reply(
            new_method_call(address, method, sig, body), timeout=self.timeout
        )
        return unwrap_msg(reply)

    def locked(self, path: str, interface: str) -> bool:
        (value,) = self.call(
            path, "org.freedesktop.DBus.Properties", "Get", "ss", interface, "Locked"
        )
        return bool(value[1])

    def close(self) -> None:
        self.conn.close()


def read_secret(service: str, username: str, *, timeout: float = 2.0) -> str | None:
    """The secret stored by ``keyring.set_password(service, username, …)``, or None if absent.

    Raises SecretServiceMiss when the answer has to come from ``keyring``
    instead (no service, locked, timeout, unexpected reply).
    """
    try:
        bus = _Bus(timeout)
    except Exception as exc:  # no bus, refused, timed out: keyring decides what to say
        raise SecretServiceMiss(type(exc).__name__) from None
    try:
        return _read(bus, service, username)
    except SecretServiceMiss:
        raise
    except Exception as exc:  # a D-Bus error or odd reply; never its text (it could echo data)
        raise SecretServiceMiss(type(exc).__name__) from None
    finally:
        bus.close()


def read_key(service: str, username: str, *, timeout: float = 2.0) -> bytes | None:
    """A key stored base64-encoded (the vault key), decoded; None if absent or not base64.

    Raises SecretServiceMiss as :func:`read_secret` does."""
    stored = read_secret(service, username, timeout=timeout)
    if stored is None:
        return None
    try:
        return base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        return None


def _read(bus: _Bus, service: str, username: str) -> str | None:
    (collection,) = bus.call(_SERVICE_PATH, _PREFIX + "Service", "ReadAlias", "s", "default")
    if collection == "/":
        raise SecretServiceMiss("no default collection")
    if bus.locked(collection, _PREFIX + "Collection"):
        raise SecretServiceMiss("the default collection is locked")
    (items,) = bus.call(
        collection,
        _PREFIX + "Collection",
        "SearchItems",
        "a{ss}",
        {"username": username, "service": service},
    )
    if not items:
        return None
    item = items[0]
    if bus.locked(item, _PREFIX + "Item"):
        raise SecretServiceMiss("the item is locked")

    # A 256-bit exponent: far above the group's ~80-bit strength (RFC 3526 section 8 asks for
    # twice it), and four times cheaper than a full-size one on this latency-bound path.
    # (os.urandom rather than the secrets module: same source, without importing random.)
    private = int.from_bytes(os.urandom(32), "big") | (1 << 255)
    public = pow(2, private, _PRIME).to_bytes(_PRIME_BYTES, "big")
    output, session = bus.call(
        _SERVICE_PATH, _PREFIX + "Service", "OpenSession", "sv", _ALGORITHM, ("ay", public)
    )
    try:
        peer = int.from_bytes(output[1], "big")
        if not 1 < peer < _PRIME - 1:
            raise SecretServiceMiss("the service sent an invalid public key")
        shared = pow(peer, private, _PRIME).to_bytes(_PRIME_BYTES, "big")
        key = _hkdf_sha256(shared, 16)
        ((_, iv, value, _content_type),) = bus.call(
            item, _PREFIX + "Item", "GetSecret", "o", session
        )
    finally:
        bus.call(session, _PREFIX + "Session", "Close", None)
    return _decrypt(key, bytes(iv), bytes(value)).decode("utf-8")


def _decrypt(key: bytes, iv: bytes, value: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if len(iv) != 16 or not value or len(value) % 16:
        raise SecretServiceMiss("the secret is not AES-CBC data")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(value) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise SecretServiceMiss("the secret has bad padding")
    return padded[:-pad]
