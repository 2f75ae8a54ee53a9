"""TokenManager against memory storage, a fake clock and a fake OAuth client."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.models import CredentialKey, ServerOptions, TokenSet
from mcp_auth_desktop.core.state import (
    LogEvent,
    RefreshFailed,
    ServerAdded,
    ServerRemoved,
    ServerState,
    SignInNeeded,
    StateChanged,
    TokensRefreshed,
)
from tests.manager.conftest import URL, Harness
from tests.manager.fakes import FakeMcp


async def tokens_of(h: Harness, m, sid: str) -> TokenSet | None:
    view = m.get(sid)
    key = CredentialKey(view.issuer, view.client_id, view.resource)
    raw = await h.vault.get(key.storage_name())
    return TokenSet.from_dict(raw) if raw else None


# ----------------------------------------------------------------- registry


async def test_add_discovers_and_moves_through_states(h: Harness):
    m = h.manager()
    await m.start(background=False)
    view = await m.add_server(URL)
    assert view.name == "mcp.example"
    assert view.state is ServerState.NEEDS_SIGN_IN
    assert view.issuer == "https://as.example"
    # Discovery runs before the server is stored, so it appears once, already
    # discovered (a failed discovery leaves nothing behind: tests/cli/test_cli_add_errors.py).
    assert [(e.old, e.new) for e in h.of(StateChanged)] == []
    assert h.oauth.discover_calls == 1
    assert len(h.of(ServerAdded)) == 1


async def test_ref_resolves_by_id_name_and_url(h: Harness):
    m = h.manager()
    await m.start(background=False)
    view = await m.add_server(URL + "/", name="Alpha")
    assert m.get(view.id).id == view.id
    assert m.get("alpha").id == view.id  # names are case-insensitive
    assert m.get("HTTPS://MCP.EXAMPLE/mcp").id == view.id
    with pytest.raises(errors.ServerNotFoundError):
        m.get("nope")


async def test_duplicates_and_insecure_urls_are_refused(h: Harness):
    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a")
    with pytest.raises(errors.DuplicateServerError):
        await m.add_server(URL)
    with pytest.raises(errors.DuplicateServerError):
        await m.add_server("https://other.example/mcp", name="A")
    with pytest.raises(errors.InsecureUrlError):
        await m.add_server("http://mcp.example/mcp")
    with pytest.raises(errors.InsecureUrlError):
        await m.add_server("http://127.0.0.1:9/mcp")  # loopback needs the option
    view = await m.add_server(
        "http://127.0.0.1:9/mcp", options=ServerOptions(allow_insecure_loopback=True)
    )
    assert view.url == "http://127.0.0.1:9/mcp"


async def test_rename_persists_and_keeps_name_unique(h: Harness):
    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.add_server("https://two.example/mcp", name="b")
    await m.rename("a", "renamed")
    with pytest.raises(errors.DuplicateServerError):
        await m.rename("b", "RENAMED")
    doc = await h.settings.load()
    assert [s["name"] for s in doc["servers"]] == ["renamed", "b"]


async def test_client_secret_goes_to_the_vault_never_settings(h: Harness):
    m = h.manager()
    await m.start(background=False)
    view = await m.add_server(URL, client_id="my-client", client_secret="S3CRET-client")
    await m.sign_in(view.id)
    doc = json.dumps(await h.settings.load())
    assert "S3CRET-client" not in doc
    assert "secret" not in doc.replace("has_client_secret", "").replace("client_secret_basic", "")
    assert (await h.vault.get(f"client_secrets/{view.id}")) == {"client_secret": "S3CRET-client"}
    assert m.get(view.id).client_id == "my-client"


# ------------------------------------------------------------ sign-in & tokens


async def test_sign_in_stores_tokens_under_credential_key(signed_in):
    h, m, sid = signed_in
    view = m.get(sid)
    assert view.state is ServerState.SIGNED_IN
    assert view.has_refresh_token and view.expires_at is not None
    tokens = await tokens_of(h, m, sid)
    assert tokens is not None and tokens.access_token == "AT-1-secret"
    # Secrets never reach a view, an event or the settings document.
    blob = repr(m.servers()) + repr(h.events) + json.dumps(await h.settings.load())
    assert "AT-1-secret" not in blob and "RT-1-secret" not in blob and "RAT-secret" not in blob


async def test_get_token_serves_without_refresh_while_fresh(signed_in):
    h, m, sid = signed_in
    assert await m.get_token("alpha") == "AT-1-secret"
    assert h.oauth.refresh_calls == 0


async def test_get_token_refreshes_when_within_min_ttl(signed_in):
    h, m, sid = signed_in
    h.clock.advance(3600 - 30)
    token = await m.get_token("alpha", min_ttl=60)
    assert token == "AT-2-secret"
    assert h.oauth.refresh_calls == 1
    refreshed = h.of(TokensRefreshed)
    assert refreshed and refreshed[-1].rotated
    assert (await tokens_of(h, m, sid)).refresh_token == "RT-2-secret"


async def test_background_refresh_runs_ahead_of_expiry(signed_in):
    h, m, sid = signed_in
    h.clock.advance(3600 - 400)  # not yet inside the 360 s margin (+ jitter <= 30 s)
    await m.run_due()
    assert h.oauth.refresh_calls == 0
    h.clock.advance(50)  # now 350 s before expiry: due whatever the jitter
    await m.run_due()
    assert h.oauth.refresh_calls == 1
    assert m.get(sid).state is ServerState.SIGNED_IN
    states = [e.new for e in h.of(StateChanged)]
    assert ServerState.REFRESHING in states


async def test_restart_refreshes_without_rediscovery(signed_in):
    h, m, sid = signed_in
    await m.aclose()
    assert h.oauth.discover_calls == 1
    m2 = h.manager()
    await m2.start(background=False)
    assert m2.get(sid).state is ServerState.SIGNED_IN
    h.clock.advance(3600 - 10)
    assert await m2.get_token(sid) == "AT-2-secret"
    assert h.oauth.discover_calls == 1  # discovery came from the settings file


async def test_single_flight_ten_callers_one_refresh(signed_in):
    h, m, sid = signed_in
    h.oauth.refresh_delay = 0.01
    h.clock.advance(3600 - 5)
    tokens = await asyncio.gather(*(m.get_token(sid) for _ in range(10)))
    assert set(tokens) == {"AT-2-secret"}
    assert h.oauth.refresh_calls == 1


async def test_two_managers_on_one_store_refresh_once(signed_in):
    """Two processes sharing the vault: the vault lock plus the re-read mean one refresh."""
    h, m, sid = signed_in
    other = h.manager()
    await other.start(background=False)
    h.oauth.refresh_delay = 0.01
    h.clock.advance(3600 - 5)
    a, b = await asyncio.gather(m.get_token(sid), other.get_token(sid))
    assert a == b == "AT-2-secret"
    assert h.oauth.refresh_calls == 1
    # Forced refreshes asked for at the same moment are also coalesced.
    await asyncio.gather(m.refresh(sid), other.refresh(sid))
    assert h.oauth.refresh_calls == 2


# --------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "exc",
    [
        errors.TemporarilyUnavailableError("server_error", status=503),
        errors.TemporarilyUnavailableError("slow_down", status=429, retry_after=120.0),
        errors.NetworkError("connection refused"),
    ],
)
async def test_transient_failure_keeps_tokens_and_backs_off(signed_in, exc):
    h, m, sid = signed_in
    h.oauth.fail_refresh.append(exc)
    h.clock.advance(3600 - 350)
    await m.run_due()
    view = m.get(sid)
    assert view.state is ServerState.SIGNED_IN
    assert view.last_refresh_result == "will retry"
    assert (await tokens_of(h, m, sid)).access_token == "AT-1-secret"
    failed = h.of(RefreshFailed)
    assert len(failed) == 1 and failed[0].transient
    if getattr(exc, "retry_after", None):
        assert failed[0].retry_in == pytest.approx(120.0)
    assert not h.of(SignInNeeded)
    # The still-valid token keeps being served, even when a refresh is asked for.
    h.oauth.fail_refresh.append(errors.TemporarilyUnavailableError("server_error", status=503))
    assert await m.get_token(sid, min_ttl=600) == "AT-1-secret"
    # The retry later succeeds.
    h.clock.advance(failed[0].retry_in or 0)
    h.clock.advance(150)
    await m.run_due()
    assert (await tokens_of(h, m, sid)).access_token == "AT-2-secret"
    assert m.get(sid).last_refresh_result == "ok"


async def test_expired_token_is_not_served_when_refresh_fails(signed_in):
    h, m, sid = signed_in
    h.oauth.fail_refresh.append(errors.NetworkError("down"))
    h.clock.advance(3601)
    with pytest.raises(errors.NetworkError):
        await m.get_token(sid)
    assert (await tokens_of(h, m, sid)) is not None  # kept for the next try


async def test_invalid_grant_means_sign_in_needed_and_tokens_removed(signed_in, caplog):
    h, m, sid = signed_in
    h.oauth.fail_refresh.append(errors.InvalidGrantError("invalid_grant", status=400))
    h.clock.advance(3600 - 10)
    with caplog.at_level(logging.WARNING), pytest.raises(errors.SignInRequiredError):
        await m.get_token(sid)
    assert m.get(sid).state is ServerState.SIGN_IN_NEEDED
    assert len(h.of(SignInNeeded)) == 1
    assert await tokens_of(h, m, sid) is None
    # The flag survives a restart and another process sees it.
    m2 = h.manager()
    await m2.start(background=False)
    assert m2.get(sid).state is ServerState.SIGN_IN_NEEDED
    # Signing in again recovers.
    await m.sign_in(sid)
    assert m.get(sid).state is ServerState.SIGNED_IN
    assert "AT-1-secret" not in caplog.text and "RT-1-secret" not in caplog.text


async def test_race_loser_uses_winners_token_and_never_wipes_it(signed_in):
    """Another process rotates without us seeing it; our refresh then gets invalid_grant."""
    h, m, sid = signed_in
    key_name = CredentialKey(m.get(sid).issuer, m.get(sid).client_id, m.get(sid).resource)
    winner = h.oauth._issue(("read",), URL)

    async def other_process_wins() -> None:
        # The winner already used RT-1 and stored its result (without our lock: worst case).
        h.oauth.live_refresh_tokens.discard("RT-1-secret")
        await h.vault.put(key_name.storage_name(), winner.to_dict())

    h.oauth.on_refresh = other_process_wins
    h.clock.advance(3600 - 10)
    token = await m.get_token(sid)
    assert token == winner.access_token
    assert (await tokens_of(h, m, sid)).access_token == winner.access_token
    assert m.get(sid).state is ServerState.SIGNED_IN
    assert not h.of(SignInNeeded)


async def test_clock_jump_rereads_storage(signed_in):
    h, m, sid = signed_in
    other = h.manager()
    await other.start(background=False)
    h.clock.advance(3600 - 10)
    await other.refresh(sid)  # "while we slept" another process refreshed
    expected = h.clock.time() + 3600
    h.clock.jump_wall(1000)  # wake after a suspend
    await m.run_due()
    assert any("Clock jump" in e.message for e in h.of(LogEvent))
    assert m.get(sid).expires_at == pytest.approx(expected)
    assert h.oauth.refresh_calls == 1  # the other process's token was used


# --------------------------------------------------------- revoke & remove


async def test_revoke_revokes_then_deletes(signed_in):
    h, m, sid = signed_in
    report = await m.revoke(sid)
    assert report.supported and report.refresh_token_revoked and report.access_token_revoked
    assert {"RT-1-secret", "AT-1-secret"} <= h.oauth.revoked
    assert await tokens_of(h, m, sid) is None
    assert m.get(sid).state is ServerState.REVOKED
    with pytest.raises(errors.SignInRequiredError):
        await m.get_token(sid)


async def test_failed_revocation_is_remembered_and_retried(signed_in, caplog):
    h, m, sid = signed_in
    h.oauth.fail_revoke.append(RuntimeError("503 from the revocation endpoint"))
    with caplog.at_level(logging.WARNING):
        report = await m.revoke(sid)
    assert report.errors
    assert await tokens_of(h, m, sid) is None  # deleted locally anyway
    assert m.get(sid).pending_revocation
    # A second process sees the pending revocation too.
    m2 = h.manager()
    await m2.start(background=False)
    assert m2.get(sid).pending_revocation
    reports = await m.retry_pending_revocations()
    assert len(reports) == 1 and not reports[0].errors
    assert "RT-1-secret" in h.oauth.revoked
    assert not m.get(sid).pending_revocation
    assert await m.retry_pending_revocations() == []


async def test_remove_revokes_deletes_registration_and_everything_local(signed_in):
    h, m, sid = signed_in
    report = await m.remove(sid)
    assert report.refresh_token_revoked and report.registration_deleted is True
    assert h.oauth.delete_calls == 1
    assert await h.vault.names() == []
    doc = await h.settings.load()
    assert doc.get("servers") == []
    assert not any(doc.get(k, {}).get(sid) for k in ("discovery", "registrations_public"))
    assert [e.name for e in h.of(ServerRemoved)] == ["alpha"]
    with pytest.raises(errors.ServerNotFoundError):
        m.get(sid)


async def test_remove_without_revocation_endpoint_says_local_only(h: Harness):
    h.oauth.revocation_endpoint = None
    m = h.manager()
    await m.start(background=False)
    view = await m.add_server(URL, client_id="pre")
    await m.sign_in(view.id)
    report = await m.remove(view.id)
    assert not report.supported
    assert "local only" in report.summary()
    assert report.registration_deleted is None  # pre-registered: nothing to delete


# ------------------------------------------------------------------- call


def _factory(script, made):
    def make(http, url, provider):
        client = FakeMcp(script, provider)
        made.append(client)
        return client

    return make


async def test_call_refreshes_once_on_401_then_needs_sign_in(h: Harness, caplog):
    def unauthorized(token):
        raise errors.InvalidTokenError("401", status=401)

    made: list[FakeMcp] = []
    m = h.manager(mcp_client_factory=_factory([unauthorized, lambda t: {"ok": t}], made))
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    result = await m.call("a", "tools/list")
    assert result == {"ok": "AT-2-secret"}  # refreshed once after the 401
    assert h.oauth.refresh_calls == 1

    m.__dict__["_mcp_factory"] = _factory([unauthorized, unauthorized], made)
    with caplog.at_level(logging.WARNING), pytest.raises(errors.SignInRequiredError):
        await m.call("a", "tools/list")
    assert m.get("a").state is ServerState.SIGN_IN_NEEDED
    assert len(h.of(SignInNeeded)) == 1


async def test_call_steps_up_with_union_of_scopes(h: Harness):
    def need_write(token):
        raise errors.InsufficientScopeError("403", scopes=("write",))

    made: list[FakeMcp] = []
    m = h.manager(mcp_client_factory=_factory([need_write, lambda t: "done"], made))
    await m.start(background=False)
    await m.add_server(URL, name="a", scopes=("read",))
    await m.sign_in("a")
    with pytest.raises(errors.SignInRequiredError):
        await m.call("a", "tools/call", {"name": "x"})  # not interactive
    m.__dict__["_mcp_factory"] = _factory([need_write, lambda t: "done"], made)
    assert await m.call("a", "tools/call", {"name": "x"}, interactive=True) == "done"
    assert h.oauth.sign_in_calls[-1] == ("read", "write")


async def test_call_gives_up_after_three_authorizations(h: Harness):
    def need_more(token):
        raise errors.InsufficientScopeError("403", scopes=("admin",))

    m = h.manager(mcp_client_factory=_factory([need_more] * 10, []))
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    before = len(h.oauth.sign_in_calls)
    with pytest.raises(errors.SignInRequiredError):
        await m.call("a", "tools/list", interactive=True)
    assert len(h.oauth.sign_in_calls) - before == 3


async def test_background_loop_refreshes_on_its_own(h: Harness):
    h.oauth.lifetime = 1.0  # refresh at half-life: about every 0.5 s
    from mcp_auth_desktop.core.models import SystemClock

    h.clock = SystemClock()  # type: ignore[assignment]
    h.oauth.clock = h.clock  # type: ignore[assignment]
    # Storage that takes time, like the file vault: the loop must not sleep past
    # a due time that was set while it was choosing how long to sleep.
    inner_get, inner_put = h.vault.get, h.vault.put

    async def slow_get(name):
        await asyncio.sleep(0.02)
        return await inner_get(name)

    async def slow_put(name, value):
        await asyncio.sleep(0.02)
        await inner_put(name, value)

    h.vault.get, h.vault.put = slow_get, slow_put  # type: ignore[method-assign]
    m = h.manager()
    await m.start()
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    for _ in range(100):
        if h.oauth.refresh_calls >= 3:
            break
        await asyncio.sleep(0.05)
    assert h.oauth.refresh_calls >= 3
    assert m.get("a").state in (ServerState.SIGNED_IN, ServerState.REFRESHING)


async def test_settings_change_by_another_process_is_picked_up(h: Harness):
    gui = h.manager()
    await gui.start()
    cli = h.manager()
    await cli.start(background=False)
    await cli.add_server(URL, name="from-cli")
    await cli.sign_in("from-cli")
    for _ in range(100):
        try:
            if gui.get("from-cli").state is ServerState.SIGNED_IN:
                break
        except errors.ServerNotFoundError:
            pass
        await asyncio.sleep(0.01)
    assert gui.get("from-cli").state is ServerState.SIGNED_IN
    await cli.remove("from-cli")
    for _ in range(100):
        if not gui.servers():
            break
        await asyncio.sleep(0.01)
    assert gui.servers() == []


async def test_refresh_concurrency_is_bounded_across_servers(h: Harness):
    active = peak = 0

    async def track() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1

    m = h.manager(refresh_concurrency=3)
    await m.start(background=False)
    for i in range(12):
        await m.add_server(f"https://s{i}.example/mcp")
        await m.sign_in(f"s{i}.example")
    h.oauth.on_refresh = track
    h.clock.advance(3600 - 10)
    await m.run_due()
    assert h.oauth.refresh_calls == 12
    assert peak == 3
    assert all(v.state is ServerState.SIGNED_IN for v in m.servers())


async def test_min_ttl_is_capped_at_half_the_lifetime(h: Harness):
    h.oauth.lifetime = 30.0
    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    assert await m.get_token("a", min_ttl=60) == "AT-1-secret"  # brand new: no refresh
    h.clock.advance(16)
    assert await m.get_token("a", min_ttl=60) == "AT-2-secret"
    assert h.oauth.refresh_calls == 1


async def test_default_port_and_localhost_forms_are_one_server(h: Harness):
    m = h.manager()
    await m.start(background=False)
    view = await m.add_server("https://mcp.example:443/mcp", name="a", discover=False)
    assert view.url == "https://mcp.example/mcp"
    with pytest.raises(errors.DuplicateServerError):
        await m.add_server("https://MCP.example/mcp/", discover=False)
    local = await m.add_server(
        "http://localhost:3000/mcp", options=ServerOptions(allow_insecure_loopback=True), discover=False
    )
    assert local.url == "http://localhost:3000/mcp"  # kept as given, not rewritten
    assert m.get("http://localhost:3000/mcp").id == local.id
