"""RFC 9068 access tokens for the mock: one signing key, signed and verified with PyJWT.

PyJWT (its ``crypto`` extra) does the JWS work: signing, JWK export, and verification
pinned to this key's one algorithm (``algorithms=[alg]``), never the one a token's header
names. What stays here is the mock's policy: the key's id (its RFC 7638 thumbprint, which
PyJWT does not compute), the ``typ``/``kid`` checks, a size limit, and one error type
(:class:`JoseError`) for every way a token can be refused.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

MAX_TOKEN_LENGTH = 4096
SUPPORTED_ALGS = ("ES256", "RS256")
#: The public members of each key type, in the JWKS and in the thumbprint (RFC 7638 §3.2).
_PUBLIC_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
#: The claim checks are the resource server's (state.check_access_token, with its leeway);
#: PyJWT checks the signature only.
_SIGNATURE_ONLY = {"verify_signature": True, "verify_exp": False, "verify_nbf": False,
                   "verify_iat": False, "verify_aud": False, "verify_iss": False,
                   "verify_sub": False, "verify_jti": False, "require": []}


class JoseError(Exception):
    """A token that is malformed or whose signature does not verify (message has no token text)."""


def b64url_encode(data: bytes) -> str:
    return base64url_encode(data).decode("ascii")


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
        if alg not in SUPPORTED_ALGS:
            raise ValueError(f"unsupported algorithm {alg}")
        return cls(alg=alg, private_pem=pem, kid=thumbprint(_public_jwk(_load_private(pem))))

    def public_jwk(self) -> dict[str, str]:
        jwk = _public_jwk(_load_private(self.private_pem))
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk

    def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        return jwt.encode(claims, _load_private(self.private_pem), algorithm=self.alg,
                          headers={"typ": typ, "kid": self.kid})

    def verify(self, token: str, *, typ: str = "at+jwt") -> dict[str, Any]:
        """Return the claims if `token` was signed by this key with this key's algorithm."""
        header, _claims, _, _ = split_token(token)
        if header.get("alg") != self.alg or header.get("kid") != self.kid:
            raise JoseError("unexpected algorithm or key id")
        if header.get("typ") != typ:
            raise JoseError("unexpected token type")
        public = _load_private(self.private_pem).public_key()
        try:
            claims: dict[str, Any] = jwt.decode(token, public, algorithms=[self.alg],
                                                options=_SIGNATURE_ONLY)  # type: ignore[arg-type]
        except jwt.InvalidSignatureError as exc:
            raise JoseError("signature does not verify") from exc
        except (jwt.PyJWTError, ValueError, RecursionError) as exc:
            raise JoseError("token refused") from exc
        return claims


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Decode a compact JWS without verifying it: (header, claims, signing input, signature)."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise JoseError("token too long")
    if token.count(".") != 2:
        raise JoseError("not a compact JWS")
    try:
        complete = jwt.api_jws.decode_complete(token, options={"verify_signature": False})
        claims = json.loads(complete["payload"])
    except (jwt.PyJWTError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: a segment of deeply nested arrays exhausts json's stack.
        raise JoseError("undecodable token segment") from exc
    header = complete["header"]
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JoseError("token segments are not JSON objects")
    signing_input = token.rpartition(".")[0].encode("ascii")
    return header, claims, signing_input, complete["signature"]


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256 of the required members, sorted, no spaces): the key id."""
    members = {k: jwk[k] for k in _PUBLIC_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


@functools.lru_cache(maxsize=8)
def _load_private(pem: bytes) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("stored signing key has an unsupported type")
    return key


def _public_jwk(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> dict[str, str]:
    exported = (ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
                if isinstance(key, ec.EllipticCurvePrivateKey)
                else RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
    # Only the public members: PyJWT also adds key_ops, which RFC 7517 §4.3 says not to
    # combine with the "use" the JWKS sets.
    return {k: str(exported[k]) for k in _PUBLIC_MEMBERS[str(exported["kty"])]}
