"""'Forget everything': revoke at every server, then delete the vault, its key and the server list."""

from __future__ import annotations

from typing import Any

from mcp_auth_desktop.core.events import ServerRemoved
from mcp_auth_desktop.core.models import ServerOptions


async def test_forget_everything_revokes_each_server_then_deletes_everything(signed_in: Any) -> None:
    h, m, _sid = signed_in
    await m.add_server("https://beta.example.com/mcp", name="beta", options=ServerOptions())
    await m.sign_in("beta")
    assert await m._vault.names()  # tokens and registrations are stored
    removed: list[str] = []
    m.subscribe(lambda e: removed.append(e.server_id) if isinstance(e, ServerRemoved) else None)

    outcome = await m.forget_everything()

    assert sorted(name for name, _ in outcome) == ["alpha", "beta"]
    assert all("revoked at the server" in text for _, text in outcome)
    assert h.oauth.revoke_calls >= 2
    assert m.servers() == [] and len(removed) == 2
    assert await m._vault.names() == []
    doc = await m._settings.load()
    assert not doc.get("servers")


async def test_forget_everything_without_revoking_sends_nothing(signed_in: Any) -> None:
    h, m, _sid = signed_in
    outcome = await m.forget_everything(revoke=False)
    assert outcome == [("alpha", "forgotten here only (not revoked at the server)")]
    assert h.oauth.revoke_calls == 0
    assert m.servers() == [] and await m._vault.names() == []
