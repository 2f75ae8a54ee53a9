"""Minimal JWS (compact serialization) for RFC 9068 access tokens, built on `cryptography`.

Only what the mock needs: one signing key (ES256 or RS256), JWK export for the JWKS document,
signing, and verification that pins the algorithm instead of trusting the token header.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

MAX_TOKEN_LENGTH = 4096


class JoseError(Exception):
    """A token that is malformed or whose signature does not verify (message has no token text)."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL for c in text) or len(text) % 4 == 1:
        raise JoseError("invalid base64url segment")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _int_b64(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


@dataclass(frozen=True)
class SigningKey:
    alg: str
    private_pem: bytes
    kid: str

    def __repr__(self) -> str:  # the private key never appears in a repr
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r})"

    @classmethod
    def generate(cls, alg: str = "ES256") -> SigningKey:
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if alg == "ES256":
            key = ec.generate_private_key(ec.SECP256R1())
        elif alg == "RS256":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            raise ValueError(f"unsupported algorithm {alg}")
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls.from_pem(alg, pem)

    @classmethod
    def from_pem(cls, alg: str, pem: bytes) -> SigningKey:
        jwk = _public_jwk(_load_private(pem))
        return cls(alg=alg, private_pem=pem, kid=thumbprint(jwk))

    def public_jwk(self) -> dict[str, str]:
        jwk = _public_jwk(_load_private(self.private_pem))
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk

    def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        header = {"alg": self.alg, "typ": typ, "kid": self.kid}
        signing_input = (
            b64url_encode(_compact_json(header)) + "." + b64url_encode(_compact_json(claims))
        ).encode("ascii")
        key = _load_private(self.private_pem)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            der = key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode("ascii") + "." + b64url_encode(signature)

    def verify(self, token: str, *, typ: str = "at+jwt") -> dict[str, Any]:
        """Return the claims if `token` was signed by this key with this key's algorithm."""
        header, claims, signing_input, signature = split_token(token)
        if header.get("alg") != self.alg or header.get("kid") != self.kid:
            raise JoseError("unexpected algorithm or key id")
        if header.get("typ") != typ:
            raise JoseError("unexpected token type")
        public = _load_private(self.private_pem).public_key()
        try:
            if isinstance(public, ec.EllipticCurvePublicKey):
                if len(signature) != 64:
                    raise JoseError("bad signature length")
                der = encode_dss_signature(
                    int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                )
                public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
            elif isinstance(public, rsa.RSAPublicKey):
                public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            else:  # pragma: no cover - only the two key types above are ever generated
                raise JoseError("unsupported key")
        except InvalidSignature as exc:
            raise JoseError("signature does not verify") from exc
        return claims


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Decode a compact JWS without verifying it: (header, claims, signing input, signature)."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise JoseError("token too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: a segment of deeply nested arrays exhausts json's stack.
        raise JoseError("undecodable token segment") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JoseError("token segments are not JSON objects")
    return header, claims, (parts[0] + "." + parts[1]).encode("ascii"), b64url_decode(parts[2])


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint, used as the key id."""
    if jwk["kty"] == "EC":
        members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    else:
        members = {k: jwk[k] for k in ("e", "kty", "n")}
    return b64url_encode(hashlib.sha256(_compact_json(members)).digest())


def _compact_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


@functools.lru_cache(maxsize=8)
def _load_private(pem: bytes) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("stored signing key has an unsupported type")
    return key


def _public_jwk(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> dict[str, str]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = key.public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": _int_b64(numbers.x, 32), "y": _int_b64(numbers.y, 32)}
    rsa_numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "n": _int_b64(rsa_numbers.n), "e": _int_b64(rsa_numbers.e)}
