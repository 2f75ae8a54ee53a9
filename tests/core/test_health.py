"""The tray's summary of all servers (core/health.py): every rule, without Qt."""

from __future__ import annotations

import time

from mcp_auth_desktop.core.health import REPEATED_FAILURES, Health, server_health, summarise
from mcp_auth_desktop.core.state import ServerState, ServerView

NOW = time.mktime((2026, 12, 4, 9, 30, 0, 0, 0, -1))


def view(name: str = "Alpha", state: ServerState = ServerState.SIGNED_IN, **kw: object) -> ServerView:
    kw.setdefault("expires_at", NOW + 600)
    kw.setdefault("has_refresh_token", True)
    return ServerView(id=f"id-{name}", name=name, url=f"https://{name}.example/mcp", state=state,
                      **kw)  # type: ignore[arg-type]


def test_all_fine_is_ok_and_empty_is_ok() -> None:
    assert summarise([], NOW).health is Health.OK
    assert summarise([], NOW).headline == "no servers yet"
    ok = summarise([view("A"), view("B")], NOW)
    assert ok.health is Health.OK and ok.findings == () and ok.headline == "all servers are fine"


def test_each_attention_rule_names_the_server_and_the_reason() -> None:
    cases = {
        "needs sign-in": (view("A", ServerState.NEEDS_SIGN_IN, expires_at=None), "not signed in yet"),
        "grant gone": (view("B", ServerState.SIGN_IN_NEEDED, expires_at=None,
                            last_error="The refresh token was refused."),
                       "the sign-in has ended (The refresh token was refused): sign in again"),
        "grant gone, said in full": (view("B2", ServerState.SIGN_IN_NEEDED, expires_at=None,
                                          last_error="The sign-in for B2 has expired or was "
                                                     "revoked: sign in again."),
                                     "the sign-in has ended: sign in again"),
        "revoked": (view("C", ServerState.REVOKED, expires_at=None), "signed out"),
        "expired": (view("D", expires_at=NOW - 1), "the access token has expired"),
        "pending revocation": (view("E", pending_revocation=True),
                               "a revocation at the server is still pending"),
    }
    for what, (v, text) in cases.items():
        summary = summarise([view("Fine"), v], NOW)
        assert summary.health is Health.ATTENTION, what
        assert summary.lines() == [f"{v.name}: {text}"], what
        assert summary.headline == f"{v.name} needs attention", what


def test_repeated_refresh_failures_say_how_many_and_since_when() -> None:
    since = NOW - 25 * 60  # 09:05 local
    once = view("A", refresh_failures=1, failing_since=NOW - 5)
    assert server_health(once, NOW) == []  # one failure is retried quietly
    failing = view("A", refresh_failures=REPEATED_FAILURES, failing_since=since,
                   last_error="The authorization server answered 503.")
    summary = summarise([failing], NOW)
    assert summary.health is Health.ATTENTION
    assert summary.lines() == [
        f"A: failed to refresh {REPEATED_FAILURES} times in a row since 09:05 "
        "(The authorization server answered 503)"]
    yesterday = view("A", refresh_failures=5, failing_since=NOW - 86400)
    assert "since 2026-12-03 09:30" in summarise([yesterday], NOW).lines()[0]


def test_error_when_the_user_is_needed_now() -> None:
    broken = view("Z", ServerState.ERROR, last_error="DNS lookup of z.example failed")
    dead = view("Y", expires_at=NOW - 60, refresh_failures=4, failing_since=NOW - 600)
    summary = summarise([view("A", ServerState.REVOKED), broken, dead], NOW)
    assert summary.health is Health.ERROR
    assert summary.headline == "Y, Z need you now"
    assert summary.lines()[0].startswith("Y: the access token has expired and failed to refresh 4")
    assert summary.lines()[1] == "Z: DNS lookup of z.example failed"
    assert summary.lines()[2] == "A: signed out"  # worst first, then by name


def test_busy_servers_are_not_reported_and_expiry_is_measured_now() -> None:
    assert summarise([view("A", ServerState.SIGNING_IN, expires_at=None)], NOW).health is Health.OK
    soon = view("A", expires_at=NOW + 1)
    assert summarise([soon], NOW).health is Health.OK
    assert summarise([soon], NOW + 2).health is Health.ATTENTION


def test_many_names_are_shortened_in_the_headline() -> None:
    views = [view(n, ServerState.REVOKED) for n in "ABCDE"]
    assert summarise(views, NOW).headline == "A, B, C and 2 more need attention"


def test_locked_servers_are_never_all_fine() -> None:
    # Before the vault is open nothing is known: not "all servers are fine", and each
    # server says what the app waits for (the tray's tooltip names them).
    locked = [view("A", ServerState.LOCKED, expires_at=None, locked_because="waiting for the keyring"),
              view("B", ServerState.LOCKED, expires_at=None, locked_because="waiting for the keyring")]
    summary = summarise(locked, NOW)
    assert summary.health is Health.ATTENTION
    assert summary.headline == "your tokens are locked: waiting for the keyring"
    assert summary.lines() == ["A: waiting for the keyring", "B: waiting for the keyring"]
    # The expiry a locked view may still carry is not judged: only the lock is said.
    stale = view("C", ServerState.LOCKED, expires_at=NOW - 1, locked_because="opening your tokens…")
    assert [f.text for f in server_health(stale, NOW)] == ["opening your tokens…"]


def test_signed_in_means_tokens_in_hand_and_nothing_else() -> None:
    # The tray, the window's actions, the Expires column, the edit check and the health
    # rules all ask ServerState.signed_in: a refresh under way keeps the tokens usable.
    assert {s for s in ServerState if s.signed_in} == {ServerState.SIGNED_IN, ServerState.REFRESHING}
