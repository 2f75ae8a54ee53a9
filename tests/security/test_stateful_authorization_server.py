"""Stateful model test of the mock authorization server (catalogue §3 F9).

A hypothesis ``RuleBasedStateMachine`` drives the real app (``create_app``,
through Starlette's TestClient) on one SQLite file with the rules authorize,
redeem, redeem with a wrong verifier, refresh (which is a replay when the
token was already rotated), revoke a refresh token, revoke an access token,
and restart (a new app instance on the same database file). A small model
predicts every answer, and after every step the invariants are checked
against the server's own view:

* a code redeems at most once; a replayed code revokes the grant it produced,
  a wrong verifier revokes nothing (catalogue 19);
* a reused rotated refresh token revokes the whole family (catalogue 24);
* at most one usable refresh token per family;
* the resource server accepts an access token if and only if the model says
  it is live, so a revoked token never validates again (catalogue 33);
* a restart changes nothing: the same checks run against the new instance.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from mock_server import ManualClock, MockConfig, create_app
from mock_server.state import MockState
from tests.mock.helpers import pkce_pair

BASE = "http://127.0.0.1:8000"
RESOURCE = BASE + "/mcp"
REDIRECT = "http://127.0.0.1:49152/callback"


@dataclass
class Family:
    """One grant: every token it ever produced and whether it is still alive."""

    active: bool = True
    current_rt: str | None = None
    used_rts: list[str] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class Code:
    value: str
    verifier: str
    redeemed_into: int | None = None  # family index once redeemed


class AuthorizationServerMachine(RuleBasedStateMachine):
    codes = Bundle("codes")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="as-model-"))
        self.db = str(self.dir / "as.sqlite3")
        self.clock = ManualClock()
        self.restarts = 0
        self._open()
        response = self.http.post(
            "/register",
            json={
                "redirect_uris": ["http://127.0.0.1/callback"],
                "application_type": "native",
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "client_name": "model client",
            },
        )
        assert response.status_code == 201, response.text
        self.client_id: str = response.json()["client_id"]
        self.families: list[Family] = []
        self.code_model: dict[str, Code] = {}
        self.rt_family: dict[str, int] = {}
        self.at_family: dict[str, int] = {}
        self.revoked_ats: set[str] = set()

    # ------------------------------------------------------------ plumbing

    def _open(self) -> None:
        config = MockConfig(
            base_url=BASE,
            db_path=self.db,
            auto_approve=True,
            clock=self.clock,
            rate_limit_per_ip=10**6,
            rate_limit_per_client=10**6,
        )
        self.app = create_app(config)
        self.http = TestClient(self.app, base_url=BASE, follow_redirects=False)
        self.http.__enter__()

    def _close(self) -> None:
        self.http.__exit__(None, None, None)  # runs the lifespan: the store is closed

    @property
    def mock(self) -> MockState:
        state: MockState = self.app.state.mock
        return state

    def teardown(self) -> None:
        self._close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _token(self, **form: str) -> Any:
        return self.http.post("/token", data={"client_id": self.client_id, "resource": RESOURCE, **form})

    def _issue(self, family: int, body: dict[str, Any]) -> tuple[str, str]:
        assert body["token_type"] == "Bearer" and body["scope"] == "mcp:read"
        at, rt = body["access_token"], body["refresh_token"]
        fam = self.families[family]
        fam.current_rt = rt
        fam.access_tokens.append(at)
        self.rt_family[rt] = family
        self.at_family[at] = family
        return at, rt

    def _kill_family(self, family: int) -> None:
        fam = self.families[family]
        fam.active = False

    # ------------------------------------------------------------ rules

    @initialize(target=codes)
    def first_grant(self) -> str:
        # Every run starts with one live family so refresh and replay are reachable early.
        code = self.authorize()
        self.redeem(code)
        return code

    @rule(target=codes)
    def authorize(self) -> str:
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(8)
        response = self.http.get(
            "/authorize",
            params={
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
                "scope": "mcp:read",
                "resource": RESOURCE,
            },
        )
        assert response.status_code == 303, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["state"] == [state] and query["iss"] == [BASE]
        code = query["code"][0]
        self.code_model[code] = Code(code, verifier)
        return code

    @rule(code=codes)
    def redeem(self, code: str) -> None:
        model = self.code_model[code]
        response = self._token(
            grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=model.verifier
        )
        if model.redeemed_into is None:
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "no-store"
            self.families.append(Family())
            model.redeemed_into = len(self.families) - 1
            self._issue(model.redeemed_into, response.json())
            return
        # A second redemption by the rightful client: refused, and the grant is revoked.
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
        self._kill_family(model.redeemed_into)

    @rule(code=codes)
    def redeem_with_wrong_verifier(self, code: str) -> None:
        wrong, _ = pkce_pair()
        response = self._token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=wrong)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
        # Nothing changes: an attacker with a stolen code cannot revoke the real grant.

    def _live_rts(self) -> list[str]:
        # Insertion order, never sorted token values: draws must replay deterministically.
        return [f.current_rt for f in self.families if f.active and f.current_rt]

    def _used_rts(self) -> list[str]:
        return [rt for f in self.families for rt in f.used_rts]

    @precondition(lambda self: bool(self._live_rts()))
    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        self._refresh(data.draw(st.sampled_from(self._live_rts()), label="live refresh token"))

    @precondition(lambda self: bool(self._used_rts()))
    @rule(data=st.data())
    def replay_rotated_refresh_token(self, data: st.DataObject) -> None:
        self._refresh(data.draw(st.sampled_from(self._used_rts()), label="rotated refresh token"))

    @precondition(lambda self: bool(self.rt_family))
    @rule(data=st.data())
    def refresh_any(self, data: st.DataObject) -> None:
        self._refresh(data.draw(st.sampled_from(list(self.rt_family)), label="any refresh token"))

    def _refresh(self, rt: str) -> None:
        family = self.rt_family[rt]
        fam = self.families[family]
        is_current = fam.current_rt == rt
        response = self._token(grant_type="refresh_token", refresh_token=rt)
        if fam.active and is_current:
            assert response.status_code == 200, response.text
            fam.used_rts.append(rt)
            _, new_rt = self._issue(family, response.json())
            assert new_rt != rt
            return
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.text
        if rt in fam.used_rts:
            self._kill_family(family)  # replay of a rotated token: the family dies

    @precondition(lambda self: bool(self.rt_family))
    @rule(data=st.data())
    def revoke_refresh_token(self, data: st.DataObject) -> None:
        rt = data.draw(st.sampled_from(list(self.rt_family)), label="refresh token")
        response = self.http.post(
            "/revoke", data={"client_id": self.client_id, "token": rt, "token_type_hint": "refresh_token"}
        )
        assert response.status_code == 200
        self._kill_family(self.rt_family[rt])

    @precondition(lambda self: bool(self.at_family))
    @rule(data=st.data(), hint=st.sampled_from(["access_token", "refresh_token", "bogus"]))
    def revoke_access_token(self, data: st.DataObject, hint: str) -> None:
        at = data.draw(st.sampled_from(list(self.at_family)), label="access token")
        response = self.http.post("/revoke", data={"client_id": self.client_id, "token": at, "token_type_hint": hint})
        assert response.status_code == 200
        self.revoked_ats.add(at)

    @precondition(lambda self: self.restarts < 3)
    @rule()
    def restart(self) -> None:
        self._close()
        self._open()
        self.restarts += 1

    @rule(garbage=st.text(min_size=1, max_size=30))
    def revoke_garbage(self, garbage: str) -> None:
        response = self.http.post("/revoke", data={"client_id": self.client_id, "token": garbage})
        assert response.status_code == 200  # RFC 7009 §2.2: unknown tokens are not an error

    # ------------------------------------------------------------ invariants

    def _at_live(self, at: str) -> bool:
        return self.families[self.at_family[at]].active and at not in self.revoked_ats

    @invariant()
    def resource_server_agrees_with_the_model(self) -> None:
        for at in self.at_family:
            assert self.mock.check_access_token(at).ok == self._at_live(at), at[:12]

    @invariant()
    def at_most_one_usable_refresh_token_per_family(self) -> None:
        usable: dict[int, list[str]] = {}
        for rt, family in self.rt_family.items():
            record = self.mock.store.get_token_by_value(rt)
            assert record is not None and record.kind == "refresh"
            if record.active_flag and record.used_at is None:
                usable.setdefault(family, []).append(rt)
        for family, fam in enumerate(self.families):
            expected = [fam.current_rt] if fam.active and fam.current_rt else []
            assert usable.get(family, []) == expected

    @invariant()
    def each_code_produced_at_most_one_grant(self) -> None:
        with self.mock.store._lock:  # read-only peek at the codes table
            rows = self.mock.store._conn.execute(
                "SELECT COUNT(*) FROM grants WHERE grant_id IN (SELECT grant_id FROM codes WHERE grant_id IS NOT NULL)"
            ).fetchone()
            consumed = self.mock.store._conn.execute(
                "SELECT COUNT(*) FROM codes WHERE consumed_at IS NOT NULL"
            ).fetchone()
        redeemed = sum(1 for c in self.code_model.values() if c.redeemed_into is not None)
        assert int(rows[0]) == int(consumed[0]) == redeemed == len(self.families)


def test_authorization_server_model() -> None:
    run_state_machine_as_test(
        AuthorizationServerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
