"""The manager's live record of one server, and the small rules every part shares."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from mcp_auth_desktop.core import server_names, urls
from mcp_auth_desktop.core.identity import Identity
from mcp_auth_desktop.core.models import (
    CredentialKey,
    Discovery,
    ServerConfig,
    ServerOptions,
    TokenSet,
)
from mcp_auth_desktop.core.registry import PublicRegistration
from mcp_auth_desktop.core.server_status import ServerStatus
from mcp_auth_desktop.core.state import RevocationReport, ServerState

S = ServerState

#: Longest the background loop sleeps before re-checking the clocks (wake/jump detection).
WAKE_CHECK_INTERVAL = 30.0
#: Shortest sleep of the background loop. Something overdue that cannot start yet (its
#: refresh waits for a lock another process holds, a revocation retry hit a storage error)
#: must not make the loop spin; a refresh that ends wakes the loop anyway.
MIN_WAKE_DELAY = 0.5
#: First retry of a failed revocation; doubles per attempt up to the cap.
REVOCATION_RETRY_BASE = 60.0
REVOCATION_RETRY_CAP = 3600.0
#: Authorization attempts (sign-in, step-up) one ``call`` may make in all.
MAX_AUTHORIZATIONS_PER_CALL = 3
#: A token this close to expiry is not handed out even when a refresh fails.
SERVE_LEEWAY = 5.0


def fingerprint(tokens: TokenSet | None) -> str | None:
    """Identifies a token set without keeping or logging the secret itself."""
    if tokens is None:
        return None
    return hashlib.sha256(tokens.access_token.encode()).hexdigest()[:16]


def revocation_incomplete(report: RevocationReport, tokens: TokenSet) -> bool:
    """Whether the long-lived secret may still be alive at the server (worth a retry).

    Revoking the refresh token kills the grant; an access token that could not
    be revoked after that dies with it or expires soon, so it is not retried.
    """
    if not report.supported or report.client_unknown:
        return False  # nothing to retry: the server no longer knows the client
    if tokens.refresh_token:
        return not report.refresh_token_revoked
    return not report.access_token_revoked


def normalize_server_url(url: str, options: ServerOptions | None = None) -> str:
    """The stored form of a server URL the user typed (the rules live in ``core/urls/``)."""
    allow = (options or ServerOptions()).allow_insecure_loopback
    return urls.normalize_server_url(url, allow_insecure_loopback=allow)


def same_url(a: str, b: str) -> bool:
    return urls.same_server_url(a, b)


def default_name(url: str) -> str:
    return server_names.default_name(url)


@dataclass
class ServerRecord:
    """The manager's live record of one server (never shown directly; see ServerView)."""

    config: ServerConfig
    state: ServerState = S.NEW
    discovery: Discovery | None = None
    registration: PublicRegistration | None = None
    #: A copy of the stored status, replaced (never mutated) by ManagerState._change_status.
    status: ServerStatus = field(default_factory=ServerStatus)
    expires_at: float | None = None
    issued_at: float = 0.0
    granted_scopes: tuple[str, ...] = ()
    has_refresh_token: bool = False
    token_fp: str | None = None
    identity: Identity | None = None
    due_at: float | None = None
    failures: int = 0
    failing_since: float | None = None  # the first of the current run of failures
    last_refresh_at: float | None = None
    last_refresh_result: str | None = None
    last_error: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sign_in_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    refresh_task: asyncio.Task[None] | None = None
    busy: int = 0  # sign-in / discovery in progress: do not re-derive from storage

    def key(self) -> CredentialKey | None:
        if self.discovery is None or self.registration is None:
            return None
        return CredentialKey(
            issuer=self.discovery.auth_server.issuer,
            client_id=self.registration.client_id,
            resource=self.discovery.resource,
        )

    def forget_tokens(self) -> None:
        self.expires_at = None
        self.issued_at = 0.0
        self.granted_scopes = ()
        self.has_refresh_token = False
        self.token_fp = None
        self.identity = None
        self.due_at = None
