"""Authorization server migration (SEP-2352) with two real mock authorization servers.

Process A is the MCP server and its first authorization server; process B is a
second authorization server (its own issuer, sharing A's database and so its
signing key, serving A's resource). After the app signs in at A, A's
protected resource metadata is switched to name B and A's resource server
accepts only B's tokens. The next MCP call must: refresh once at A (useless),
rediscover, register at B (a new client), sign in at B, and then revoke the
old refresh token at A and delete the old registration at A (RFC 7592),
telling the user; nothing of A's is left in the vault. Removing a server
mid-migration (before the sign-in at B) revokes and deletes at A too
(audit finding 15.6: before the fix the old refresh token and registration
were never revoked, even on remove).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mcp_auth_desktop.core import migration
from mcp_auth_desktop.core.events import LogEvent
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ClientRegistration, CredentialKey, ServerOptions
from mcp_auth_desktop.core.registry import registration_entry_name
from mcp_auth_desktop.core.state import ManagerEvent, ServerState
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.mock.helpers import MockProcess, start_mock_process
from tests.start_page import HeadlessApprover

pytestmark = pytest.mark.e2e


@dataclass
class Pair:
    a: MockProcess
    b: MockProcess
    db: str = ""

    def migrate(self) -> None:
        self.a.control(knobs={"authorization_server": self.b.issuer})


@pytest.fixture
def pair() -> Iterator[Pair]:
    with tempfile.TemporaryDirectory(prefix="migration-") as tmp:
        db = str(Path(tmp, "shared.sqlite"))
        a = start_mock_process("--auto-approve", "--db", db)
        try:
            b = start_mock_process("--auto-approve", "--db", db)
            try:
                b.control(knobs={"resource": a.mcp_url})
                # No rotation at A: the refresh token the app holds stays the live one, so the
                # test can show that it is dead afterwards because it was revoked.
                a.control(knobs={"rotate_refresh_tokens": False})
                yield Pair(a, b, db)
            finally:
                b.stop()
        finally:
            a.stop()


@dataclass
class App:
    manager: TokenManager
    vault: MemoryVault
    events: list[ManagerEvent]

    def notes(self) -> list[str]:
        return [e.message for e in self.events if isinstance(e, migration.MigrationNote)]

    async def registration_at(self, issuer: str) -> ClientRegistration | None:
        raw = await self.vault.get(registration_entry_name(self.server_id, issuer))
        return ClientRegistration.from_dict(raw) if raw else None

    @property
    def server_id(self) -> str:
        return self.manager.get("moving").id


@pytest.fixture
async def app(pair: Pair) -> AsyncIterator[App]:
    http = make_http_client()
    vault = MemoryVault()
    m = TokenManager(http=http, vault=vault, settings=MemorySettings(), browser=HeadlessApprover())
    events: list[ManagerEvent] = []
    m.subscribe(events.append)
    await m.start(background=False)
    await m.add_server(pair.a.mcp_url, name="moving", options=ServerOptions(allow_insecure_loopback=True))
    await m.sign_in("moving")
    yield App(m, vault, events)
    await m.aclose()
    await http.aclose()


def stat(mock: MockProcess, name: str) -> int:
    return int(mock.control()["stats"].get(name, 0))


async def refresh_grant_works(mock: MockProcess, reg: ClientRegistration, refresh_token: str) -> bool:
    """Is ``refresh_token`` still usable at ``mock`` (a direct refresh_token grant)?"""
    async with httpx.AsyncClient(trust_env=False) as c:
        r = await c.post(f"{mock.issuer}/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": reg.client_id, "resource": mock.mcp_url,
        })
    return r.status_code == 200


async def registration_exists(reg: ClientRegistration) -> bool:
    assert reg.registration_client_uri and reg.registration_access_token
    async with httpx.AsyncClient(trust_env=False) as c:
        r = await c.get(reg.registration_client_uri,
                        headers={"Authorization": f"Bearer {reg.registration_access_token}"})
    return r.status_code == 200


async def old_credentials(app: App, pair: Pair) -> tuple[ClientRegistration, str]:
    reg = await app.registration_at(pair.a.issuer)
    assert reg is not None and reg.method == "dcr"
    view = app.manager.get("moving")
    raw = await app.vault.get(CredentialKey(pair.a.issuer, reg.client_id, view.resource or "").storage_name())
    assert raw and raw.get("refresh_token")
    return reg, str(raw["refresh_token"])


@pytest.mark.allow_warning_logs  # "sign-in needed … refused the token after a refresh": true here
async def test_call_after_the_resource_moves_signs_in_at_the_new_server_and_cleans_the_old(
    app: App, pair: Pair
) -> None:
    old_reg, old_refresh = await old_credentials(app, pair)
    assert await refresh_grant_works(pair.a, old_reg, old_refresh)
    assert await registration_exists(old_reg)

    pair.migrate()
    registered_at_b = stat(pair.b, "clients_registered")
    result = await app.manager.call("moving", "tools/list", interactive=True)
    assert result.get("tools"), result

    view = app.manager.get("moving")
    assert view.state is ServerState.SIGNED_IN and view.issuer == pair.b.issuer
    new_reg = await app.registration_at(pair.b.issuer)
    assert new_reg is not None and new_reg.client_id != old_reg.client_id
    assert stat(pair.b, "clients_registered") == registered_at_b + 1

    # At A: the old refresh token is revoked and the old registration deleted.
    assert stat(pair.a, "revocations") >= 1
    assert stat(pair.a, "clients_deleted") == 1
    assert not await refresh_grant_works(pair.a, old_reg, old_refresh)
    assert not await registration_exists(old_reg)

    # Nothing of A's is left here, and the user was told both steps.
    assert await app.registration_at(pair.a.issuer) is None
    assert await migration.retired_for(app.vault) == []
    names = await app.vault.names()
    assert sum(n.startswith("tokens/") for n in names) == 1
    notes = app.notes()
    assert any(f"now uses the authorization server {pair.b.issuer} instead of {pair.a.issuer}" in n
               for n in notes), notes
    assert any("the old sign-in was revoked at" in n and "registration" in n and "deleted" in n
               for n in notes), notes
    assert all(not isinstance(e, LogEvent) or old_refresh not in e.message for e in app.events)


async def test_remove_mid_migration_revokes_and_deletes_at_the_old_server(app: App, pair: Pair) -> None:
    """Finding 15.6: the migration was seen (rediscovery), the user never signed in at B, then removes."""
    old_reg, old_refresh = await old_credentials(app, pair)
    pair.migrate()
    await app.manager.rediscover("moving")
    assert app.manager.get("moving").state is ServerState.NEEDS_SIGN_IN
    [retired] = await migration.retired_for(app.vault)
    assert retired.issuer == pair.a.issuer and retired.tokens is not None
    # The old server's credentials were moved out of their active entries, not left orphaned.
    assert await app.registration_at(pair.a.issuer) is None
    assert not any(n.startswith("tokens/") for n in await app.vault.names())
    # Still live at A: retiring alone does not end it, settling must.
    assert await refresh_grant_works(pair.a, old_reg, old_refresh)
    revocations = stat(pair.a, "revocations")

    await app.manager.remove("moving")
    assert stat(pair.a, "revocations") > revocations
    assert stat(pair.a, "clients_deleted") == 1
    assert not await refresh_grant_works(pair.a, old_reg, old_refresh)
    assert not await registration_exists(old_reg)
    assert await migration.retired_for(app.vault) == []
    assert await app.vault.names() == []
    assert any("old client registration" in n and "deleted" in n for n in app.notes()), app.notes()


@pytest.mark.allow_warning_logs  # "sign-in needed … refused the token after a refresh": true here
async def test_a_call_that_may_not_sign_in_still_sees_the_move(app: App, pair: Pair) -> None:
    """The app's Test and `call --no-sign-in` open no browser, but the next sign-in must go to B."""
    from mcp_auth_desktop.core import errors

    pair.migrate()
    with pytest.raises(errors.SignInRequiredError):
        await app.manager.call("moving", "tools/list", interactive=False)
    view = app.manager.get("moving")
    assert view.state in (ServerState.SIGN_IN_NEEDED, ServerState.NEEDS_SIGN_IN)
    assert view.issuer == pair.b.issuer
    assert len(await migration.retired_for(app.vault)) == 1
    await app.manager.sign_in("moving")
    assert app.manager.get("moving").issuer == pair.b.issuer
    assert await migration.retired_for(app.vault) == []
    assert stat(pair.a, "clients_deleted") == 1
    assert (await app.manager.call("moving", "tools/list")).get("tools")


async def test_what_the_old_server_could_not_take_is_tried_again(app: App, pair: Pair) -> None:
    """A is down when the server is removed: the retired credentials stay (encrypted) and are
    revoked and deleted by the background retry once A is back; nothing is given up silently."""
    from urllib.parse import urlsplit

    old_reg, old_refresh = await old_credentials(app, pair)
    pair.migrate()
    await app.manager.rediscover("moving")
    port = urlsplit(pair.a.base_url).port
    assert port is not None
    pair.a.stop()

    await app.manager.remove("moving")
    [left] = await migration.retired_for(app.vault)
    assert left.due and left.attempts == 1
    assert any("failed" in n and "it will be tried again" in n for n in app.notes()), app.notes()

    back = start_mock_process("--auto-approve", "--db", pair.db, "--port", str(port))
    try:
        back.control(knobs={"rotate_refresh_tokens": False})  # as before the restart
        assert await refresh_grant_works(back, old_reg, old_refresh)  # still live at A
        app.manager._clock = _Later(app.manager._clock, migration.RETRY_BASE * 2 + 1)  # type: ignore[attr-defined]
        await app.manager.retry_pending_revocations(only_due=True)
        assert await migration.retired_for(app.vault) == []
        assert not await refresh_grant_works(back, old_reg, old_refresh)
        assert not await registration_exists(old_reg)
        assert stat(back, "clients_deleted") == 1
    finally:
        back.stop()


class _Later:
    """The manager's clock, ``ahead`` seconds later (the backoff has passed)."""

    def __init__(self, clock: object, ahead: float) -> None:
        self._clock = clock
        self._ahead = ahead

    def time(self) -> float:
        return float(self._clock.time()) + self._ahead  # type: ignore[attr-defined]

    def monotonic(self) -> float:
        return float(self._clock.monotonic()) + self._ahead  # type: ignore[attr-defined]
