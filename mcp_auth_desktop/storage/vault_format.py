"""The vault file format, with nothing but the standard library and ``cryptography``.

Shared by :mod:`.vault` (the full, locking store) and the lean read of
``mcp-auth token`` (:mod:`mcp_auth_desktop.cli.token_fast`), which must not
pay for importing asyncio and the rest of the storage layer. See
:mod:`.vault` for the layout.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["FORMAT_VERSION", "MAGIC", "decrypt_entries"]

JsonObject = dict[str, Any]

MAGIC = b"MCPAUTHV"
FORMAT_VERSION = 1
_PREFIX = struct.Struct(">8sI")
_MAX_HEADER = 64 * 1024
_NONCE_BYTES = 12
_CHECK_LABEL = b"mcp-auth-desktop vault key check v1"


class _Corrupt(Exception):
    """Internal: the file cannot be trusted. ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _key_check(key: bytes) -> str:
    return base64.b64encode(hmac.new(key, _CHECK_LABEL, hashlib.sha256).digest()[:16]).decode()


def key_opens(key: bytes, header: Mapping[str, Any]) -> bool:
    """Whether ``key`` is the one the vault with this ``header`` was sealed with (its key
    check, compared in constant time): the one test the vault, the keyring's direct read
    and the ``token`` fast path apply."""
    return hmac.compare_digest(_key_check(key), str(header.get("key_check")))


def _b64(value: object, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise _Corrupt(f"its header has an invalid {what}") from None
    if len(raw) != size:
        raise _Corrupt(f"its header has an invalid {what}")
    return raw


def _reject_constant(name: str) -> None:
    raise ValueError(f"invalid JSON constant {name}")


def _strict_loads(data: bytes | str) -> Any:
    return json.loads(data, parse_constant=_reject_constant)


def _split(raw: bytes) -> tuple[JsonObject, bytes, bytes]:
    """Header, associated data and ciphertext of a vault file, or _Corrupt."""
    if len(raw) < _PREFIX.size:
        raise _Corrupt("it is truncated")
    magic, hlen = _PREFIX.unpack_from(raw)
    if magic != MAGIC:
        raise _Corrupt("it is not an MCP Auth Desktop vault")
    if hlen > _MAX_HEADER or len(raw) < _PREFIX.size + hlen:
        raise _Corrupt("it is truncated")
    aad = raw[: _PREFIX.size + hlen]
    try:
        header = _strict_loads(aad[_PREFIX.size :])
    except (ValueError, UnicodeDecodeError):
        raise _Corrupt("its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _Corrupt("its header is not valid JSON")
    version = header.get("format")
    if type(version) is not int:
        raise _Corrupt("its header has no format version")
    if version > FORMAT_VERSION:
        raise _Corrupt(f"it was written by a newer version of the app (format {version})")
    if version < 1 or header.get("cipher") != "AES-256-GCM":
        raise _Corrupt(f"it uses an unsupported format ({version})")
    if header.get("key_source") not in ("keyring", "passphrase", "memory"):
        raise _Corrupt("its header names an unknown key source")
    return header, aad, raw[len(aad) :]


def decrypt_entries(key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> dict[str, JsonObject]:
    """The entries of a vault body, or _Corrupt when it fails the AEAD tag or its shape."""
    try:
        plain = AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise _Corrupt("its contents fail the integrity check") from None
    try:
        doc = _strict_loads(plain)
    except (ValueError, UnicodeDecodeError):
        raise _Corrupt("its decrypted contents are not valid JSON") from None
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise _Corrupt("its decrypted contents have the wrong shape")
    return entries
