"""MockState: everything one running mock server holds, and the Python API tests use.

Tests reach it as ``app.state.mock``. Besides the stores it offers knobs (``knobs``),
counters (``stats``), ``revoke_all()`` and ``mint_access_token()`` for resource-server
tests that need tokens with unusual claims.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_server.clock import Clock, SystemClock
from mock_server.config import Knobs, MockConfig
from mock_server.device_store import DeviceCodes, WrongCodeLimiter
from mock_server.jose import JoseError, SigningKey, split_token
from mock_server.store import NewToken, Store, TokenRecord, digest

#: The mock's own pages (package data beside this module: the same in a source tree, an
#: installed wheel and a PyInstaller bundle, which collects mock_server's data files).
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

MAX_SESSIONS = 10_000


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


@dataclass
class McpSession:
    session_id: str
    subject: str
    client_id: str
    protocol_version: str
    created_at: float
    initialized: bool = False


@dataclass
class TokenCheck:
    """Outcome of validating a bearer token at the resource server."""

    ok: bool
    description: str = ""
    record: TokenRecord | None = None
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def scopes(self) -> list[str]:
        return str(self.claims.get("scope", "")).split()


class RateLimiter:
    """Fixed-window counters per key; monotonic time so wall-clock tests do not disturb it."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._buckets: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request; return seconds to wait when over the limit, else None."""
        now = time.monotonic()
        with self._lock:
            start, count = self._buckets.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            self._buckets[key] = (start, count)
            if len(self._buckets) > 50_000:  # bound memory under a flood of distinct keys
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[0] < self.window}
            if count > self.limit:
                return start + self.window - now
            return None


def client_source_key(bucket: str, client_id: str, source: str) -> str:
    """The per-client limit's key: the client *and* the source address.

    A public client_id is no secret, so a limit on the client alone lets
    anyone who knows it lock out every user of that client (issue 15 #12);
    keyed on both, a flood from one address only uses up that address's share.
    The per-address limit (``ip_limiter``) still bounds one source over all clients.
    """
    return f"{bucket}:{client_id}|{source}"


class MockState:
    def __init__(self, config: MockConfig) -> None:
        config.validate()
        self.config = config
        self.clock: Clock = config.clock if config.clock is not None else SystemClock()
        self.knobs = Knobs.from_config(config)
        self.store = Store(config.db_path)
        self.key = self._load_or_create_key()
        self.ip_limiter = RateLimiter(config.rate_limit_per_ip, config.rate_limit_window)
        self.client_limiter = RateLimiter(config.rate_limit_per_client, config.rate_limit_window)
        self.sessions: OrderedDict[str, McpSession] = OrderedDict()
        self.notes: dict[str, list[str]] = {}
        self.stats: Counter[str] = Counter()
        self.cimd_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self.devices = DeviceCodes(self.store)
        self.wrong_user_codes = WrongCodeLimiter(config.device_wrong_code_limit, 300.0)
        self.templates_dir = (
            Path(config.templates_dir)
            if config.templates_dir
            else TEMPLATES_DIR
        )
        self._lock = threading.Lock()

    # -- basics ---------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    @property
    def issuer(self) -> str:
        return self.config.issuer

    @property
    def resource(self) -> str:
        return self.knobs.resource or self.config.mcp_url

    @property
    def resource_issuer(self) -> str:
        """The issuer whose tokens the resource server accepts (and its PRM names)."""
        return self.knobs.authorization_server or self.issuer

    @property
    def prm_url(self) -> str:
        return self.config.base_url + "/.well-known/oauth-protected-resource" + self.config.mcp_path

    def count(self, name: str) -> None:
        with self._lock:
            self.stats[name] += 1

    def close(self) -> None:
        self.store.close()

    def _load_or_create_key(self) -> SigningKey:
        alg = self.config.signing_alg
        stored = self.store.load_key(alg)
        if stored is None:
            fresh = SigningKey.generate(alg)
            stored = self.store.save_key_if_absent(fresh.kid, alg, fresh.private_pem, self.now())
        return SigningKey.from_pem(alg, stored[1])

    # -- token minting --------------------------------------------------------------------
    def new_access_token(
        self,
        *,
        client_id: str,
        subject: str,
        scope: str,
        resource: str,
        now: float,
        extra_claims: dict[str, Any] | None = None,
        drop_claims: tuple[str, ...] = (),
        ttl: int | None = None,
    ) -> tuple[str, NewToken]:
        jti = new_secret(16)
        lifetime = self.knobs.access_token_ttl if ttl is None else ttl
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": resource,
            "client_id": client_id,
            "scope": scope,
            "jti": jti,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now) + lifetime,
        }
        claims.update(extra_claims or {})
        for name in drop_claims:
            claims.pop(name, None)
        token = self.key.sign(claims)
        record = NewToken(
            jti=jti,
            kind="access",
            token_hash=digest(token),
            scope=scope,
            resource=resource,
            issued_at=now,
            expires_at=float(claims.get("exp", now + lifetime)),
        )
        return token, record

    def new_refresh_token(
        self, *, scope: str, resource: str, now: float, parent: str | None = None
    ) -> tuple[str, NewToken]:
        token = "rt_" + new_secret(32)
        record = NewToken(
            jti=new_secret(16),
            kind="refresh",
            token_hash=digest(token),
            scope=scope,
            resource=resource,
            issued_at=now,
            expires_at=now + self.knobs.refresh_token_ttl,
            parent_jti=parent,
        )
        return token, record

    def mint_access_token(
        self,
        *,
        scope: str = "mcp:read",
        client_id: str = "test-client",
        subject: str | None = None,
        resource: str | None = None,
        ttl: int | None = None,
        extra_claims: dict[str, Any] | None = None,
        drop_claims: tuple[str, ...] = (),
    ) -> str:
        """Test API: store a grant and an access token with chosen (possibly bad) claims."""
        now = self.now()
        aud = self.resource if resource is None else resource
        token, record = self.new_access_token(
            client_id=client_id,
            subject=subject or self.config.subject,
            scope=scope,
            resource=aud,
            now=now,
            extra_claims=extra_claims,
            drop_claims=drop_claims,
            ttl=ttl,
        )
        grant_id = "g_" + new_secret(12)
        code = "test_" + new_secret(16)
        self.store.create_code(
            code,
            client_id=client_id,
            redirect_uri="http://127.0.0.1/cb",
            resource=aud,
            scope=scope,
            challenge="",
            subject=subject or self.config.subject,
            now=now,
        )
        self.store.consume_code(code, grant_id=grant_id, now=now, tokens=[record])
        return token

    def revoke_all(self) -> int:
        """Test API: revoke every grant and token; returns how many grants were live."""
        return self.store.revoke_all(self.now())

    # -- resource-server validation -------------------------------------------------------
    def check_access_token(self, token: str) -> TokenCheck:
        """Signature, typ/alg, iss, aud, exp/nbf/iat with leeway, then revocation (store)."""
        try:
            header, claims, _, _ = split_token(token)
            if header.get("kid") != self.key.kid:
                return TokenCheck(False, "The access token was not signed by this server")
            claims = self.key.verify(token)
        except JoseError:
            return TokenCheck(False, "The access token is malformed or its signature is invalid")
        now = self.now()
        leeway = self.config.leeway
        if claims.get("iss") != self.resource_issuer:
            return TokenCheck(False, "The access token was issued by another issuer")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.resource not in audiences:
            return TokenCheck(False, "The access token is not intended for this resource")
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return TokenCheck(False, "The access token has no expiry")
        if now > exp + leeway:
            return TokenCheck(False, "The access token expired")
        for name, value in (("nbf", nbf), ("iat", iat)):
            if value is not None and (not isinstance(value, int | float) or value > now + leeway):
                return TokenCheck(False, f"The access token {name} is in the future")
        jti = claims.get("jti")
        record = self.store.get_token_by_jti(jti) if isinstance(jti, str) else None
        if record is None or record.kind != "access":
            return TokenCheck(False, "The access token is unknown")
        if not record.active_flag:
            return TokenCheck(False, "The access token was revoked")
        return TokenCheck(True, record=record, claims=claims)

    # -- MCP sessions ---------------------------------------------------------------------
    def create_session(self, subject: str, client_id: str, version: str) -> McpSession:
        with self._lock:
            session = McpSession(new_secret(24), subject, client_id, version, self.now())
            self.sessions[session.session_id] = session
            while len(self.sessions) > MAX_SESSIONS:
                self.sessions.popitem(last=False)
            return session

    def get_session(self, session_id: str) -> McpSession | None:
        with self._lock:
            return self.sessions.get(session_id)

    def end_session(self, session_id: str) -> bool:
        with self._lock:
            return self.sessions.pop(session_id, None) is not None
