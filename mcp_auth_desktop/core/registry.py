"""Where the manager keeps what it knows about each server, across restarts and processes.

Non-secret facts go to the settings document (readable JSON, watched by the
GUI while the CLI writes it); secrets go to the vault:

settings document                         vault (encrypted)
-----------------                         -----------------
``servers``: [ServerConfig]               ``tokens/<hash>``: TokenSet (CredentialKey.storage_name())
``discovery``: {id: Discovery}            ``clients/<hash>``: ClientRegistration (with secrets)
``registrations_public``: {id: {...}}     ``client_secrets/<id>``: pre-registered client secret
``server_status``: {id: {...}}            ``revocations/<id>.<hash>``: tokens whose revocation failed

Discovery is persisted so a restart refreshes straight away with no
rediscovery (a failure users report of other clients: the refresh went to a
guessed ``/token`` because nothing was remembered). Every write goes through
``SettingsStore.update`` / ``SecretVault.put``, which lock, re-read and
replace atomically, so the GUI and the CLI never lose each other's changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mcp_auth_desktop.core import settings_seal
from mcp_auth_desktop.core.models import (
    ClientRegistration,
    CredentialKey,
    Discovery,
    ServerConfig,
    TokenSet,
)
from mcp_auth_desktop.core.ports import JsonObject, SecretVault, SettingsStore
from mcp_auth_desktop.core.server_status import StatusChange, apply_to_stored

# The parse of the settings document lives in core/snapshot.py (the first frame needs it
# without the rest of this module); its names are still answered here.
from mcp_auth_desktop.core.snapshot import (
    DISCOVERY,
    REGISTRATIONS,
    SERVERS,
    STATUS,
    PublicRegistration,
    RegistrySnapshot,
    snapshot_from_document,
)

__all__ = [
    "DISCOVERY",
    "REGISTRATIONS",
    "SERVERS",
    "STATUS",
    "Registry",
    "RegistrySnapshot",
    "PendingRevocation",
    "PublicRegistration",
    "registration_entry_name",
    "snapshot_from_document",
]

REVOCATION_PREFIX = "revocations/"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def registration_entry_name(server_id: str, issuer: str) -> str:
    """Vault name of the client registration a server uses at ``issuer``.

    Registrations are per server (and per issuer), not shared between servers
    of one authorization server: removing a server deletes its dynamic
    registration (RFC 7592) and must not break another server.
    """
    return "clients/" + _digest(issuer, server_id)


@dataclass(frozen=True)
class PendingRevocation:
    """Tokens already deleted locally whose revocation at the server still has to happen."""

    name: str
    server_id: str
    server_name: str
    discovery: Discovery
    registration: ClientRegistration
    tokens: TokenSet
    attempts: int = 0


class Registry:
    """Reads and writes the manager's persistent state through the two stores."""

    def __init__(self, settings: SettingsStore, vault: SecretVault) -> None:
        self._settings = settings
        self._vault = vault

    # -- settings ---------------------------------------------------------

    async def load(self) -> RegistrySnapshot:
        return snapshot_from_document(await self._settings.load())

    async def put_server(self, config: ServerConfig) -> None:
        """Add or replace one server (matched by id)."""

        def change(doc: JsonObject) -> None:
            servers = [s for s in doc.get(SERVERS) or [] if s.get("id") != config.id]
            existing = [s.get("id") for s in doc.get(SERVERS) or []]
            entry = config.to_dict()
            if config.id in existing:
                servers.insert(existing.index(config.id), entry)
            else:
                servers.append(entry)
            doc[SERVERS] = servers

        await settings_seal.seal_server(self._vault, config)  # the vault first: it is the truth
        await self._settings.update(change)

    async def drop_server(self, server_id: str) -> None:
        def change(doc: JsonObject) -> None:
            doc[SERVERS] = [s for s in doc.get(SERVERS) or [] if s.get("id") != server_id]
            for section in (DISCOVERY, REGISTRATIONS, STATUS):
                (doc.get(section) or {}).pop(server_id, None)

        await self._settings.update(change)
        await settings_seal.drop(self._vault, server_id)

    async def put_discovery(self, server_id: str, discovery: Discovery) -> None:
        def change(doc: JsonObject) -> None:
            doc.setdefault(DISCOVERY, {})[server_id] = discovery.to_dict()

        await settings_seal.seal_discovery(self._vault, server_id, discovery)
        await self._settings.update(change)

    async def update_status(self, server_id: str, change: StatusChange) -> None:
        """Apply ``change`` to the server's status as stored now (sign-in needed, revoked…).

        Under the settings lock, to the re-read document: only the fields ``change``
        alters are written, so what another process wrote meanwhile stays.
        """

        def apply(doc: JsonObject) -> None:
            section = doc.setdefault(STATUS, {})
            stored = section.get(server_id)
            if not isinstance(stored, dict):
                stored = section[server_id] = {}
            apply_to_stored(stored, change)

        await self._settings.update(apply)

    # -- registrations ----------------------------------------------------

    async def put_registration(self, server_id: str, reg: ClientRegistration) -> None:
        await self._vault.put(registration_entry_name(server_id, reg.issuer), reg.to_dict())
        public = PublicRegistration.of(reg).to_json()

        def change(doc: JsonObject) -> None:
            doc.setdefault(REGISTRATIONS, {})[server_id] = public

        await self._settings.update(change)

    async def get_registration(self, server_id: str, issuer: str) -> ClientRegistration | None:
        raw = await self._vault.get(registration_entry_name(server_id, issuer))
        if raw is None:
            return None
        try:
            reg = ClientRegistration.from_dict(raw)
        except (TypeError, KeyError, ValueError):
            return None
        # A registration is bound to its issuer (mix-up defence): never reuse it elsewhere.
        return reg if reg.issuer == issuer else None

    async def delete_registration(self, server_id: str, issuer: str) -> None:
        await self._vault.delete(registration_entry_name(server_id, issuer))

        def change(doc: JsonObject) -> None:
            (doc.get(REGISTRATIONS) or {}).pop(server_id, None)

        await self._settings.update(change)

    async def put_client_secret(self, server_id: str, secret: str) -> None:
        await self._vault.put(f"client_secrets/{server_id}", {"client_secret": secret})

    async def get_client_secret(self, server_id: str) -> str | None:
        raw = await self._vault.get(f"client_secrets/{server_id}")
        value = raw.get("client_secret") if raw else None
        return value if isinstance(value, str) else None

    async def delete_client_secret(self, server_id: str) -> None:
        await self._vault.delete(f"client_secrets/{server_id}")

    # -- tokens -----------------------------------------------------------

    async def get_tokens(self, key: CredentialKey) -> TokenSet | None:
        raw = await self._vault.get(key.storage_name())
        if raw is None:
            return None
        try:
            return TokenSet.from_dict(raw)
        except (TypeError, KeyError, ValueError):
            return None

    async def put_tokens(self, key: CredentialKey, tokens: TokenSet) -> None:
        await self._vault.put(key.storage_name(), tokens.to_dict())

    async def delete_tokens(self, key: CredentialKey) -> None:
        await self._vault.delete(key.storage_name())

    # -- revocations that still have to reach the server -------------------

    async def add_pending_revocation(
        self,
        server_id: str,
        server_name: str,
        discovery: Discovery,
        registration: ClientRegistration,
        tokens: TokenSet,
    ) -> str:
        name = REVOCATION_PREFIX + server_id + "." + _digest(tokens.access_token)[:16]
        await self._vault.put(
            name,
            {
                "server_id": server_id,
                "server_name": server_name,
                "discovery": discovery.to_dict(),
                "registration": registration.to_dict(),
                "tokens": tokens.to_dict(),
                "attempts": 0,
            },
        )
        return name

    async def pending_revocations(self) -> list[PendingRevocation]:
        out: list[PendingRevocation] = []
        for name in await self._vault.names():
            if not name.startswith(REVOCATION_PREFIX):
                continue
            raw = await self._vault.get(name)
            if raw is None:
                continue
            try:
                out.append(
                    PendingRevocation(
                        name=name,
                        server_id=str(raw["server_id"]),
                        server_name=str(raw.get("server_name") or raw["server_id"]),
                        discovery=Discovery.from_dict(raw["discovery"]),
                        registration=ClientRegistration.from_dict(raw["registration"]),
                        tokens=TokenSet.from_dict(raw["tokens"]),
                        attempts=int(raw.get("attempts") or 0),
                    )
                )
            except (TypeError, KeyError, ValueError):
                continue
        return out

    async def bump_pending_revocation(self, item: PendingRevocation) -> None:
        raw = await self._vault.get(item.name)
        if raw is not None:
            raw["attempts"] = item.attempts + 1
            await self._vault.put(item.name, raw)

    async def delete_pending_revocation(self, name: str) -> None:
        await self._vault.delete(name)

    async def delete_server_secrets(self, server_id: str) -> None:
        """Everything secret that belongs to one server except pending revocations."""
        await self.delete_client_secret(server_id)
