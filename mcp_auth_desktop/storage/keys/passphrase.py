"""The vault key derived with scrypt from a passphrase the user gives once.

The salt and the cost live in the vault header (``kdf``); a header's cost is
accepted only within bounds, so a forged header cannot make unlocking take hours.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mcp_auth_desktop.core.errors import VaultLockedError, WeakPassphraseError

from ..base import JsonObject, KeySource
from .provider import KEY_BYTES, BadKeyHeaderError

__all__ = ["PassphraseKeyProvider"]


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
