"""SQLite persistence (WAL) for keys, clients, pending consents, codes, grants and tokens.

Every secret (client secret, registration access token, code, token) is stored as its SHA-256
digest: they are high-entropy random strings, so a plain digest suffices and a copied database
file does not hand out live credentials. Each public method is one transaction; the one-shot
operations (code consumption, refresh rotation, consent use) are a conditional UPDATE whose
rowcount decides the winner, so they stay atomic across threads and processes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from mock_server.records import ClientRecord, CodeRecord, NewToken, TokenRecord

__all__ = ["ClientRecord", "CodeRecord", "NewToken", "Store", "TokenRecord", "digest"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, pem BLOB NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY, secret_hash TEXT, metadata TEXT NOT NULL, source TEXT NOT NULL,
    rat_hash TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    id TEXT PRIMARY KEY, params TEXT NOT NULL, csrf_hash TEXT NOT NULL, browser_hash TEXT NOT NULL,
    created_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    resource TEXT NOT NULL, scope TEXT NOT NULL, challenge TEXT NOT NULL, subject TEXT NOT NULL,
    created_at REAL NOT NULL, consumed_at REAL, grant_id TEXT);
CREATE TABLE IF NOT EXISTS grants (
    grant_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, subject TEXT NOT NULL,
    scope TEXT NOT NULL, resource TEXT NOT NULL, created_at REAL NOT NULL,
    revoked_at REAL, revoke_reason TEXT);
CREATE TABLE IF NOT EXISTS tokens (
    jti TEXT PRIMARY KEY, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
    grant_id TEXT NOT NULL, client_id TEXT NOT NULL, subject TEXT NOT NULL, scope TEXT NOT NULL,
    resource TEXT NOT NULL, issued_at REAL NOT NULL, expires_at REAL NOT NULL,
    revoked_at REAL, used_at REAL, parent_jti TEXT);
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens(grant_id);
CREATE INDEX IF NOT EXISTS tokens_client ON tokens(client_id);
CREATE INDEX IF NOT EXISTS grants_client ON grants(client_id);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Store:
    """Thread-safe access to one SQLite database (file in WAL mode, or ':memory:')."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA busy_timeout = 10000")
            if path != ":memory:":
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise RuntimeError(f"SQLite refused WAL mode for {path}")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front so two processes sharing the file
        # cannot both read "unused" and then both write "used".
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def journal_mode(self) -> str:
        with self._lock:
            return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0])

    # -- signing keys ---------------------------------------------------------------------
    def load_key(self, alg: str) -> tuple[str, bytes] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT kid, pem FROM keys WHERE alg = ? ORDER BY created_at DESC LIMIT 1", (alg,)
            ).fetchone()
        return None if row is None else (str(row["kid"]), bytes(row["pem"]))

    def save_key_if_absent(self, kid: str, alg: str, pem: bytes, now: float) -> tuple[str, bytes]:
        """Insert a key unless another process stored one for `alg` first; return the winner."""
        with self._tx() as c:
            row = c.execute(
                "SELECT kid, pem FROM keys WHERE alg = ? ORDER BY created_at DESC LIMIT 1", (alg,)
            ).fetchone()
            if row is not None:
                return str(row["kid"]), bytes(row["pem"])
            c.execute("INSERT INTO keys VALUES (?, ?, ?, ?)", (kid, alg, pem, now))
            return kid, pem

    # -- clients --------------------------------------------------------------------------
    def put_client(
        self,
        client_id: str,
        *,
        secret: str | None,
        metadata: dict[str, Any],
        source: str,
        rat: str | None,
        now: float,
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO clients VALUES (?, ?, ?, ?, ?, ?)",
                (
                    client_id,
                    digest(secret) if secret else None,
                    json.dumps(metadata),
                    source,
                    digest(rat) if rat else None,
                    now,
                ),
            )

    def update_client_metadata(self, client_id: str, metadata: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE clients SET metadata = ? WHERE client_id = ?",
                (json.dumps(metadata), client_id),
            )

    def get_client(self, client_id: str) -> ClientRecord | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM clients WHERE client_id = ?", (client_id,)
            ).fetchone()
        if row is None:
            return None
        return ClientRecord(
            client_id=row["client_id"],
            secret_hash=row["secret_hash"],
            metadata=json.loads(row["metadata"]),
            source=row["source"],
            rat_hash=row["rat_hash"],
            created_at=row["created_at"],
        )

    def delete_client(self, client_id: str, now: float) -> None:
        """Remove a client and revoke everything it was ever issued."""
        with self._tx() as c:
            c.execute("DELETE FROM clients WHERE client_id = ?", (client_id,))
            c.execute(
                "UPDATE grants SET revoked_at = ?, revoke_reason = 'client_deleted' "
                "WHERE client_id = ? AND revoked_at IS NULL",
                (now, client_id),
            )
            c.execute(
                "UPDATE tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL",
                (now, client_id),
            )

    # -- pending consent ------------------------------------------------------------------
    def create_pending(
        self, pending_id: str, params: dict[str, str], csrf: str, browser: str, now: float
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO pending VALUES (?, ?, ?, ?, ?, NULL)",
                (pending_id, json.dumps(params), digest(csrf), digest(browser), now),
            )
            # Old, unused consent requests are not worth keeping.
            c.execute("DELETE FROM pending WHERE created_at < ?", (now - 3600,))

    def get_pending(self, pending_id: str) -> tuple[dict[str, str], str, str, float, float | None] | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM pending WHERE id = ?", (pending_id,)).fetchone()
        if row is None:
            return None
        return (
            json.loads(row["params"]),
            row["csrf_hash"],
            row["browser_hash"],
            row["created_at"],
            row["used_at"],
        )

    def use_pending(self, pending_id: str, now: float) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "UPDATE pending SET used_at = ? WHERE id = ? AND used_at IS NULL", (now, pending_id)
            )
            return cur.rowcount == 1

    # -- authorization codes --------------------------------------------------------------
    def create_code(
        self,
        code: str,
        *,
        client_id: str,
        redirect_uri: str,
        resource: str,
        scope: str,
        challenge: str,
        subject: str,
        now: float,
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (digest(code), client_id, redirect_uri, resource, scope, challenge, subject, now),
            )

    def get_code(self, code: str) -> CodeRecord | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM codes WHERE code_hash = ?", (digest(code),)
            ).fetchone()
        return None if row is None else CodeRecord(**dict(row))

    def consume_code(
        self, code: str, *, grant_id: str, now: float, tokens: list[NewToken]
    ) -> bool:
        """Atomically mark the code used and store the grant and tokens it yields.

        Returns False (and stores nothing) when the code had already been consumed; in that
        case the grant of the first redemption is revoked, as OAuth 2.1 §4.1.3 asks.
        """
        with self._tx() as c:
            code_hash = digest(code)
            cur = c.execute(
                "UPDATE codes SET consumed_at = ?, grant_id = ? "
                "WHERE code_hash = ? AND consumed_at IS NULL",
                (now, grant_id, code_hash),
            )
            if cur.rowcount != 1:
                row = c.execute(
                    "SELECT grant_id FROM codes WHERE code_hash = ?", (code_hash,)
                ).fetchone()
                if row is not None and row["grant_id"]:
                    self._revoke_grant(c, row["grant_id"], now, "code_replay")
                return False
            row = c.execute("SELECT * FROM codes WHERE code_hash = ?", (code_hash,)).fetchone()
            self.insert_grant(
                c, grant_id, client_id=row["client_id"], subject=row["subject"], scope=row["scope"],
                resource=row["resource"], now=now, tokens=tokens,
            )
            return True

    # -- grants and tokens ----------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction, for the modules that keep their own tables (device_store)."""
        return self._tx()

    def insert_grant(
        self, c: sqlite3.Connection, grant_id: str, *, client_id: str, subject: str, scope: str,
        resource: str, now: float, tokens: list[NewToken],
    ) -> None:
        """Inside a transaction: a new grant and the tokens it yields."""
        c.execute(
            "INSERT INTO grants VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
            (grant_id, client_id, subject, scope, resource, now),
        )
        for t in tokens:
            self._insert_token(c, t, grant_id, client_id, subject)

    def _insert_token(
        self, c: sqlite3.Connection, t: NewToken, grant_id: str, client_id: str, subject: str
    ) -> None:
        c.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
            (
                t.jti,
                t.kind,
                t.token_hash,
                grant_id,
                client_id,
                subject,
                t.scope,
                t.resource,
                t.issued_at,
                t.expires_at,
                t.parent_jti,
            ),
        )

    def _revoke_grant(self, c: sqlite3.Connection, grant_id: str, now: float, reason: str) -> None:
        c.execute(
            "UPDATE grants SET revoked_at = ?, revoke_reason = ? "
            "WHERE grant_id = ? AND revoked_at IS NULL",
            (now, reason, grant_id),
        )
        c.execute(
            "UPDATE tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL",
            (now, grant_id),
        )

    def revoke_grant(self, grant_id: str, now: float, reason: str) -> None:
        with self._tx() as c:
            self._revoke_grant(c, grant_id, now, reason)

    def revoke_token(self, jti: str, now: float) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL", (now, jti)
            )

    def get_grant(self, grant_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM grants WHERE grant_id = ?", (grant_id,)).fetchone()
        return None if row is None else dict(row)

    _TOKEN_SELECT = (
        "SELECT t.*, g.revoked_at AS grant_revoked_at FROM tokens t "
        "JOIN grants g ON g.grant_id = t.grant_id "
    )

    def _token(self, row: sqlite3.Row | None) -> TokenRecord | None:
        if row is None:
            return None
        values = dict(row)
        values.pop("token_hash", None)
        return TokenRecord(**values)

    def get_token_by_value(self, token: str) -> TokenRecord | None:
        with self._lock:
            row = self._conn.execute(
                self._TOKEN_SELECT + "WHERE t.token_hash = ?", (digest(token),)
            ).fetchone()
        return self._token(row)

    def get_token_by_jti(self, jti: str) -> TokenRecord | None:
        with self._lock:
            row = self._conn.execute(self._TOKEN_SELECT + "WHERE t.jti = ?", (jti,)).fetchone()
        return self._token(row)

    def rotate_refresh(
        self, old_jti: str, *, now: float, rotate: bool, tokens: list[NewToken]
    ) -> str:
        """Use a refresh token once. Returns "ok", "reused" (family revoked) or "revoked".

        With `rotate`, the old token is marked used in the same transaction that inserts the
        new ones, so of N parallel requests exactly one sees rowcount == 1.
        """
        with self._tx() as c:
            row = c.execute(
                self._TOKEN_SELECT + "WHERE t.jti = ?", (old_jti,)
            ).fetchone()
            if row is None or row["revoked_at"] is not None or row["grant_revoked_at"] is not None:
                return "revoked"
            if rotate:
                cur = c.execute(
                    "UPDATE tokens SET used_at = ? WHERE jti = ? AND used_at IS NULL "
                    "AND revoked_at IS NULL",
                    (now, old_jti),
                )
                if cur.rowcount != 1:
                    self._revoke_grant(c, row["grant_id"], now, "refresh_token_reuse")
                    return "reused"
            for t in tokens:
                self._insert_token(c, t, row["grant_id"], row["client_id"], row["subject"])
            return "ok"

    def mark_reuse(self, grant_id: str, now: float) -> None:
        self.revoke_grant(grant_id, now, "refresh_token_reuse")

    def count_active_tokens(self, grant_id: str, now: float) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM tokens t JOIN grants g ON g.grant_id = t.grant_id "
                "WHERE t.grant_id = ? AND t.revoked_at IS NULL AND g.revoked_at IS NULL "
                "AND t.used_at IS NULL AND t.expires_at > ?",
                (grant_id, now),
            ).fetchone()
        return int(row[0])

    def revoke_all(self, now: float) -> int:
        with self._tx() as c:
            cur = c.execute(
                "UPDATE grants SET revoked_at = ?, revoke_reason = 'admin' WHERE revoked_at IS NULL",
                (now,),
            )
            c.execute("UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL", (now,))
            return int(cur.rowcount)
