"""Device authorization grant (RFC 8628) state: device codes, their user codes and their fate.

One table beside the others in the mock's SQLite file. The device code (a bearer secret
polled by the client) is stored as its SHA-256 digest like every other secret; the user
code is stored normalised (and digested too: it is what the user types, and a copied
database must not let anyone approve a pending request). Every change is one conditional
UPDATE whose rowcount decides, so a code is decided once and redeemed once, across threads
and processes sharing the file.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from mock_server.records import NewToken
from mock_server.store import Store, digest

__all__ = [
    "USER_CODE_ALPHABET",
    "DeviceCodes",
    "DeviceRecord",
    "WrongCodeLimiter",
    "format_user_code",
    "new_user_code",
    "normalise_user_code",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS device_codes (
    device_hash TEXT PRIMARY KEY, user_hash TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
    scope TEXT NOT NULL, resource TEXT NOT NULL, subject TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL, interval REAL NOT NULL,
    last_poll_at REAL, status TEXT NOT NULL, csrf_hash TEXT, browser_hash TEXT,
    decided_at REAL, grant_id TEXT);
"""

#: RFC 8628 §6.1: consonants only (no vowels, so no words; no 0/O, 1/I look-alikes).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8  # 20^8 ≈ 2.6e10 codes; wrong guesses are rate limited per address

Status = Literal["pending", "approved", "denied", "consumed"]
PollOutcome = Literal["authorization_pending", "slow_down", "expired_token", "access_denied",
                      "invalid_grant", "approved"]


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def normalise_user_code(typed: str) -> str | None:
    """What the user typed, upper-cased, dashes and spaces dropped; None if it cannot be a code."""
    code = "".join(ch for ch in typed.upper() if ch not in "- \t")
    if len(code) != USER_CODE_LENGTH or any(ch not in USER_CODE_ALPHABET for ch in code):
        return None
    return code


def format_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class DeviceRecord:
    device_hash: str
    user_hash: str
    client_id: str
    scope: str
    resource: str
    subject: str
    created_at: float
    expires_at: float
    interval: float
    last_poll_at: float | None
    status: Status
    csrf_hash: str | None
    browser_hash: str | None
    decided_at: float | None
    grant_id: str | None


@dataclass(frozen=True)
class Poll:
    """One token-endpoint poll as the server saw it (tests measure the spacing)."""

    at: float
    answer: str


class DeviceCodes:
    def __init__(self, store: Store) -> None:
        self._store = store
        with store.transaction() as c:
            c.execute(SCHEMA)
        #: Keys the code-entry form's CSRF token to the browser's cookie (HMAC, nothing stored).
        self.form_key = secrets.token_bytes(32)
        #: The last polls (monotonic time and answer), newest last.
        self.polls: deque[Poll] = deque(maxlen=500)

    def create(
        self, *, client_id: str, scope: str, resource: str, subject: str, now: float,
        ttl: float, interval: float,
    ) -> tuple[str, str]:
        """A new pending request; returns (device_code, user_code) in the clear, once."""
        device_code = "dc_" + secrets.token_urlsafe(32)
        with self._store.transaction() as c:
            c.execute("DELETE FROM device_codes WHERE expires_at < ?", (now - 3600,))
            while True:  # a user-code collision among live requests is retried, not shared
                user_code = new_user_code()
                try:
                    c.execute(
                        "INSERT INTO device_codes VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'pending', NULL, NULL, NULL, NULL)",
                        (digest(device_code), digest(user_code), client_id, scope, resource,
                         subject, now, now + ttl, interval),
                    )
                    break
                except sqlite3.IntegrityError:
                    continue
        return device_code, user_code

    def _row(self, column: str, value: str) -> DeviceRecord | None:
        with self._store.transaction() as c:
            row = c.execute(f"SELECT * FROM device_codes WHERE {column} = ?", (value,)).fetchone()  # noqa: S608 - fixed column names
        return None if row is None else DeviceRecord(**dict(row))

    def by_user_code(self, user_code: str) -> DeviceRecord | None:
        return self._row("user_hash", digest(user_code))

    def by_device_code(self, device_code: str) -> DeviceRecord | None:
        return self._row("device_hash", digest(device_code))

    def bind_consent(self, device_hash: str, csrf: str, browser: str) -> None:
        """The consent page shown for this request: its form token and the browser it went to."""
        with self._store.transaction() as c:
            c.execute(
                "UPDATE device_codes SET csrf_hash = ?, browser_hash = ? "
                "WHERE device_hash = ? AND status = 'pending'",
                (digest(csrf), digest(browser), device_hash),
            )

    def decide(self, device_hash: str, approve: bool, now: float) -> bool:
        """Approve or deny a pending, unexpired request once; False if it was not pending."""
        with self._store.transaction() as c:
            cur = c.execute(
                "UPDATE device_codes SET status = ?, decided_at = ?, csrf_hash = NULL "
                "WHERE device_hash = ? AND status = 'pending' AND expires_at > ?",
                ("approved" if approve else "denied", now, device_hash, now),
            )
            return cur.rowcount == 1

    def poll(self, device_hash: str, now: float, force_slow_down: bool) -> PollOutcome:
        """Record one poll and classify it (RFC 8628 §3.5); slow_down adds 5 s to the interval."""
        with self._store.transaction() as c:
            row = c.execute("SELECT * FROM device_codes WHERE device_hash = ?", (device_hash,)).fetchone()
            if row is None:
                return "invalid_grant"
            c.execute("UPDATE device_codes SET last_poll_at = ? WHERE device_hash = ?", (now, device_hash))
            status = row["status"]
            if status == "consumed":
                return "invalid_grant"
            if status == "denied":
                return "access_denied"
            if now >= row["expires_at"]:
                return "expired_token"
            last = row["last_poll_at"]
            if force_slow_down or (last is not None and now - last < row["interval"]):
                c.execute(
                    "UPDATE device_codes SET interval = interval + 5 WHERE device_hash = ?", (device_hash,)
                )
                return "slow_down"
            return "approved" if status == "approved" else "authorization_pending"

    def redeem(
        self, record: DeviceRecord, *, grant_id: str, now: float, tokens: list[NewToken]
    ) -> bool:
        """Mark an approved request used and store its grant and tokens, atomically, once."""
        with self._store.transaction() as c:
            cur = c.execute(
                "UPDATE device_codes SET status = 'consumed', grant_id = ? "
                "WHERE device_hash = ? AND status = 'approved'",
                (grant_id, record.device_hash),
            )
            if cur.rowcount != 1:
                return False
            self._store.insert_grant(
                c, grant_id, client_id=record.client_id, subject=record.subject,
                scope=record.scope, resource=record.resource, now=now, tokens=tokens,
            )
            return True

    def note_poll(self, answer: str) -> None:
        self.polls.append(Poll(time.monotonic(), answer))


class WrongCodeLimiter:
    """Wrong user codes per source address: after ``limit`` in ``window`` seconds, refuse all.

    Separate from the request rate limit: a user code is short, so guessing is what this
    stops, and it counts only failures (a user who mistypes once is not slowed down).
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        fails = self._fails.setdefault(key, deque())
        while fails and now - fails[0] >= self.window:
            fails.popleft()
        return fails

    def blocked(self, key: str) -> float | None:
        """Seconds until ``key`` may try again, or None."""
        now = time.monotonic()
        with self._lock:
            fails = self._recent(key, now)
            if len(fails) >= self.limit:
                return fails[0] + self.window - now
            return None

    def record(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > 10_000:  # bound memory under a flood of addresses
                self._fails.clear()
            self._recent(key, now).append(now)
