"""Authorization server migration (SEP-2352): nothing left behind at the old server.

When a server's protected resource metadata starts naming another
authorization server, the client registration and tokens held for the old
one mean nothing at the new one (credentials are bound to their issuer, and
the new server must see a fresh registration). They are not simply forgotten
either: a refresh token and a dynamic registration left at the old server
stay usable there by whoever obtains them, and the user never learns they
exist (audit finding 15.6).

So the manager *retires* them at the moment it sees the change
(:func:`retire`): the old tokens and registration move, in the vault, from
their active entries to one ``retired/…`` entry that keeps the old server's
discovery (for its endpoints). After the user has signed in at the new
server, and whenever the server is removed, :func:`settle` revokes the old
tokens (refresh token first, RFC 7009) and deletes the old registration
(RFC 7592) where the old server allows it, then forgets the entry. What could
not be done stays retired and is tried again later; the report says which.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from .errors import McpAuthError
from .events import LogEvent
from .models import ClientRegistration, CredentialKey, Discovery, TokenSet
from .ports import OAuthClientLike, SecretVault
from .registry import PublicRegistration, Registry
from .urls import redact_url

__all__ = [
    "RETIRED_PREFIX",
    "MigrationNote",
    "MigrationReport",
    "Retired",
    "retire",
    "retire_server",
    "retired_for",
    "settle",
    "settle_due",
    "settle_server",
]

log = logging.getLogger(__name__)

RETIRED_PREFIX = "retired/"
#: Retired credentials the old server keeps refusing are given up after this many tries.
MAX_ATTEMPTS = 8
#: Backoff between tries in the background (doubling, capped).
RETRY_BASE = 60.0
RETRY_CAP = 3600.0


@dataclass(frozen=True)
class MigrationNote(LogEvent):
    """A log event about a migration; the CLI prints these (the GUI shows every LogEvent)."""


@dataclass(frozen=True)
class Retired:
    """Credentials held for an authorization server the server no longer names."""

    name: str  # vault entry name
    server_id: str
    server_name: str
    discovery: Discovery  # the old authorization server's discovery (endpoints)
    registration: ClientRegistration | None
    tokens: TokenSet | None
    attempts: int = 0
    #: Settle now (the user signed in at the new server, or removed the server).
    due: bool = False

    @property
    def issuer(self) -> str:
        return self.discovery.auth_server.issuer


@dataclass(frozen=True)
class MigrationReport:
    """What happened at the old authorization server."""

    server_name: str
    old_issuer: str
    tokens_revoked: bool | None  # None: there were no tokens
    revocation_supported: bool
    registration_deleted: bool | None  # None: nothing that could be deleted (not dynamic, no URI)
    problems: tuple[str, ...] = ()
    server_id: str = ""

    @property
    def complete(self) -> bool:
        """Nothing left to try again: whatever the old server allows was done."""
        tokens_done = self.tokens_revoked is not False or not self.revocation_supported
        return tokens_done and self.registration_deleted is not False

    def summary(self) -> str:
        old = redact_url(self.old_issuer)
        parts: list[str] = []
        if self.tokens_revoked:
            parts.append(f"the old sign-in was revoked at {old}")
        elif self.tokens_revoked is False and not self.revocation_supported:
            parts.append(f"{old} offers no revocation, so the old sign-in was only deleted here")
        elif self.tokens_revoked is False:
            parts.append(f"revoking the old sign-in at {old} failed")
        if self.registration_deleted:
            parts.append(f"the old client registration at {old} was deleted")
        elif self.registration_deleted is False:
            parts.append(f"deleting the old client registration at {old} failed")
        text = "; ".join(parts) or f"nothing was left at {old}"
        if self.problems:
            text += " (" + "; ".join(self.problems) + ")"
        if not self.complete:
            text += "; it will be tried again"
        return f"{self.server_name}: {text}."


def _entry_name(server_id: str, issuer: str, client_id: str) -> str:
    digest = hashlib.sha256("\x1f".join((server_id, issuer, client_id)).encode()).hexdigest()[:24]
    return f"{RETIRED_PREFIX}{server_id}.{digest}"


async def retire(
    vault: SecretVault,
    *,
    server_id: str,
    server_name: str,
    old: Discovery,
    registration: ClientRegistration | None,
    tokens: TokenSet | None,
) -> Retired | None:
    """Keep the old server's credentials in one retired entry (None when there are none).

    The caller deletes the active entries afterwards; writing the retired
    entry first means a crash in between leaves a duplicate, never a loss.
    """
    if registration is None and tokens is None:
        return None
    client_id = registration.client_id if registration else ""
    name = _entry_name(server_id, old.auth_server.issuer, client_id)
    await vault.put(
        name,
        {
            "server_id": server_id,
            "server_name": server_name,
            "discovery": old.to_dict(),
            "registration": registration.to_dict() if registration else None,
            "tokens": tokens.to_dict() if tokens else None,
            "attempts": 0,
            "due": False,
        },
    )
    log.info("retired the credentials of %s at %s", server_name, redact_url(old.auth_server.issuer))
    return Retired(name, server_id, server_name, old, registration, tokens)


def _parse(name: str, raw: dict[str, Any]) -> Retired | None:
    try:
        reg = raw.get("registration")
        tok = raw.get("tokens")
        return Retired(
            name=name,
            server_id=str(raw["server_id"]),
            server_name=str(raw.get("server_name") or raw["server_id"]),
            discovery=Discovery.from_dict(raw["discovery"]),
            registration=ClientRegistration.from_dict(reg) if isinstance(reg, dict) else None,
            tokens=TokenSet.from_dict(tok) if isinstance(tok, dict) else None,
            attempts=int(raw.get("attempts") or 0),
            due=bool(raw.get("due")),
        )
    except (TypeError, KeyError, ValueError):
        return None


async def retired_for(vault: SecretVault, server_id: str | None = None) -> list[Retired]:
    """Retired entries of one server (or of all servers when ``server_id`` is None)."""
    out: list[Retired] = []
    prefix = RETIRED_PREFIX + (f"{server_id}." if server_id else "")
    for name in await vault.names():
        if not name.startswith(prefix):
            continue
        raw = await vault.get(name)
        item = _parse(name, raw) if raw is not None else None
        if item is not None:
            out.append(item)
    return out


async def mark_due(vault: SecretVault, server_id: str) -> None:
    """From now on the server's retired credentials are settled (and retried) by the manager."""
    for item in await retired_for(vault, server_id):
        raw = await vault.get(item.name)
        if raw is not None and not raw.get("due"):
            raw["due"] = True
            await vault.put(item.name, raw)


async def settle(oauth: OAuthClientLike, vault: SecretVault, item: Retired) -> MigrationReport:
    """Revoke the retired tokens, then delete the retired registration; forget what is done."""
    problems: list[str] = []
    supported = item.discovery.auth_server.revocation_endpoint is not None
    revoked: bool | None = None
    registration = item.registration
    if item.tokens is not None:
        revoked = False
        if supported and registration is not None:
            try:
                report = await oauth.revoke(item.discovery, registration, item.tokens)
            except McpAuthError as exc:
                problems.append(exc.user_message)
            else:
                problems.extend(report.errors)
                wanted = item.tokens.refresh_token is not None
                revoked = report.refresh_token_revoked if wanted else report.access_token_revoked
        elif supported:
            # Without the client's identity the old server will never accept a revocation.
            revoked = None
            problems.append("the client registration is missing, so the old tokens were only deleted here")
    deleted: bool | None = None
    if registration is not None and registration.deletable:
        try:
            deleted = await oauth.delete_registration(registration)
        except McpAuthError as exc:
            deleted = False
            problems.append(exc.user_message)
    result = MigrationReport(
        server_name=item.server_name,
        old_issuer=item.issuer,
        tokens_revoked=revoked,
        revocation_supported=supported,
        registration_deleted=deleted,
        problems=tuple(problems),
        server_id=item.server_id,
    )
    if result.complete or deleted:
        # Deleting the client invalidates its grants too (RFC 7592 §2.3): nothing left.
        await vault.delete(item.name)
    else:
        raw = await vault.get(item.name)
        if raw is not None:
            raw["attempts"] = item.attempts + 1
            await vault.put(item.name, raw)
    log.info("%s", result.summary())
    return result


def old_key(discovery: Discovery, registration: PublicRegistration | None) -> CredentialKey | None:
    """The token key a server used at its old authorization server, from its public registration."""
    if registration is None:
        return None
    return CredentialKey(
        issuer=discovery.auth_server.issuer, client_id=registration.client_id,
        resource=discovery.resource,
    )


async def retire_server(
    registry: Registry,
    vault: SecretVault,
    *,
    server_id: str,
    server_name: str,
    old: Discovery,
    public_registration: PublicRegistration | None,
) -> Retired | None:
    """Move a server's credentials at ``old`` out of its active entries into a retired one."""
    key = old_key(old, public_registration)
    lock = vault.lock(key.storage_name()) if key else contextlib.nullcontext()
    async with lock:
        tokens = await registry.get_tokens(key) if key else None
        registration = await registry.get_registration(server_id, old.auth_server.issuer)
        item = await retire(
            vault, server_id=server_id, server_name=server_name, old=old,
            registration=registration, tokens=tokens,
        )
        if key is not None:
            await registry.delete_tokens(key)
        await registry.delete_registration(server_id, old.auth_server.issuer)
    return item


async def settle_server(
    oauth: OAuthClientLike,
    vault: SecretVault,
    server_id: str,
    *,
    schedule: dict[str, float],
    now: float,
) -> list[MigrationReport]:
    """Settle every retired entry of one server now (after a sign-in, on remove).

    What cannot be done yet is put on ``schedule`` for :func:`settle_due`.
    """
    await mark_due(vault, server_id)
    reports: list[MigrationReport] = []
    for item in await retired_for(vault, server_id):
        schedule[item.name] = now
        reports.extend(await _settle_scheduled(oauth, vault, item, schedule, now))
    return reports


async def _settle_scheduled(
    oauth: OAuthClientLike, vault: SecretVault, item: Retired, schedule: dict[str, float], now: float
) -> list[MigrationReport]:
    if item.attempts >= MAX_ATTEMPTS:
        await vault.delete(item.name)
        schedule.pop(item.name, None)
        log.warning("gave up on the retired credentials of %s at %s", item.server_name,
                    redact_url(item.issuer))
        return []
    report = await settle(oauth, vault, item)
    if await vault.get(item.name) is None:
        schedule.pop(item.name, None)
    else:
        schedule[item.name] = now + min(RETRY_CAP, RETRY_BASE * 2.0**item.attempts)
    return [report]


async def settle_due(
    oauth: OAuthClientLike, vault: SecretVault, schedule: dict[str, float], now: float
) -> list[MigrationReport]:
    """The background retry: settle every due retired entry whose time has come.

    ``schedule`` maps entry names to the next try (the manager's revocation
    schedule, so its scheduler wakes for these too); a new entry is tried at once.
    """
    reports: list[MigrationReport] = []
    for item in await retired_for(vault):
        if not item.due or schedule.setdefault(item.name, now) > now:
            continue
        reports.extend(await _settle_scheduled(oauth, vault, item, schedule, now))
    return reports
