"""Fault test L2: the mock AS process is SIGKILLed mid-write under load, then restarted.

A real ``python -m mock_server --port 0 --db <tmpfile>`` process (SQLite in WAL
mode) serves a bounded load of token requests: several refresh-token chains
rotating in a loop plus code redemptions. After a number of acknowledged
answers it is killed with SIGKILL while requests are in flight, then started
again on the same port and the same database file. Twice. Afterwards:

* ``PRAGMA integrity_check`` is ``ok``;
* every access token acknowledged before a kill still validates at ``/mcp``;
* rotation was atomic: a refresh token is marked used if and only if exactly
  one child refresh token exists (old RT valid XOR new RT valid);
* the last acknowledged refresh token of each chain either still refreshes or,
  when the server had committed an unacknowledged rotation, is a reuse that
  revokes its family, after which every access token of that chain is refused;
* an acknowledged code never redeems again, and a code whose redemption was in
  flight redeems at most once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.mock.helpers import (
    MockProcess,
    authorize_code,
    bearer_status,
    register_public_client,
    start_mock_process,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHAINS = 6
ROUNDS = 3
FLAGS = ("--auto-approve", "--rate-limit-per-ip", "1000000", "--rate-limit-per-client", "1000000")


@dataclass
class Chain:
    current_rt: str
    access_tokens: list[str] = field(default_factory=list)
    #: Set when the server answered a reuse: an unacknowledged rotation had been committed.
    revoked: bool = False


@dataclass
class Load:
    client_id: str
    chains: list[Chain]
    acked_codes: list[tuple[str, str, str]] = field(default_factory=list)  # code, verifier, redirect
    uncertain_codes: list[tuple[str, str, str]] = field(default_factory=list)  # code, verifier, redirect
    acks: int = 0


def _start(db: Path, port: int | None = None) -> MockProcess:
    args = [*FLAGS, "--db", str(db)]
    if port is not None:
        args = ["--port", str(port), *args]
    return start_mock_process(*args)


async def _token(http: httpx.AsyncClient, server: MockProcess, client_id: str, **form: str) -> httpx.Response:
    return await http.post(
        server.base_url + "/token", data={"client_id": client_id, "resource": server.mcp_url, **form}
    )


async def _initialize_status(http: httpx.AsyncClient, server: MockProcess, token: str) -> int:
    return await bearer_status(http, server.mcp_url, token)


async def _run_until_killed(server: MockProcess, load: Load) -> None:
    """Bounded load; SIGKILL at a random moment once it runs, with requests in flight."""
    killed = asyncio.Event()
    deadline = time.monotonic() + 20.0
    start_acks = load.acks
    running = asyncio.Event()

    def ack() -> None:
        load.acks += 1
        if load.acks - start_acks >= 5:
            running.set()

    async def killer() -> None:
        await asyncio.wait_for(running.wait(), timeout=15)
        await asyncio.sleep(random.uniform(0.0, 0.4))
        os.kill(server.proc.pid, signal.SIGKILL)
        killed.set()

    async def rotate(http: httpx.AsyncClient, chain: Chain) -> None:
        for _ in range(200):
            if killed.is_set() or time.monotonic() > deadline:
                return
            try:
                response = await _token(http, server, load.client_id, grant_type="refresh_token", refresh_token=chain.current_rt)
            except httpx.TransportError:
                return  # killed while in flight: outcome unknown, checked after restart
            if response.status_code == 400 and response.json()["error"] == "invalid_grant":
                chain.revoked = True  # the kill came after the commit of a rotation we never saw
                return
            assert response.status_code == 200, response.text
            body = response.json()
            chain.current_rt = body["refresh_token"]
            chain.access_tokens.append(body["access_token"])
            ack()

    async def redeem(http: httpx.AsyncClient) -> None:
        for _ in range(200):
            if killed.is_set() or time.monotonic() > deadline:
                return
            try:
                auth = await authorize_code(http, server.base_url, load.client_id, resource=server.mcp_url)
            except (httpx.TransportError, AssertionError):
                return
            load.uncertain_codes.append((auth.code, auth.verifier, auth.redirect_uri))
            try:
                response = await _token(
                    http, server, load.client_id, grant_type="authorization_code", code=auth.code,
                    redirect_uri=auth.redirect_uri, code_verifier=auth.verifier,
                )
            except httpx.TransportError:
                return
            assert response.status_code == 200, response.text
            load.acked_codes.append(load.uncertain_codes.pop())
            ack()

    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        await asyncio.gather(killer(), *(rotate(http, c) for c in load.chains if not c.revoked), redeem(http))
    assert killed.is_set(), "the load finished before the kill: raise the bounds"
    server.proc.wait(timeout=10)
    assert server.proc.returncode == -signal.SIGKILL
    if server.proc.stdout is not None:
        server.proc.stdout.close()


def _check_database(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT t.jti, t.used_at, (SELECT COUNT(*) FROM tokens c WHERE c.parent_jti = t.jti AND c.kind = 'refresh') "
            "FROM tokens t WHERE t.kind = 'refresh'"
        ).fetchall()
        for _jti, used_at, children in rows:
            # The UPDATE (mark used) and the INSERT (new token) are one transaction.
            assert children == (1 if used_at is not None else 0)
        consumed = conn.execute(
            "SELECT COUNT(*) FROM codes c LEFT JOIN grants g ON g.grant_id = c.grant_id "
            "WHERE c.consumed_at IS NOT NULL AND g.grant_id IS NULL"
        ).fetchone()[0]
        assert consumed == 0  # a consumed code always has its grant (and tokens) stored


async def test_sigkill_mid_write_keeps_the_database_and_every_invariant(tmp_path: Path) -> None:
    db = tmp_path / "as.sqlite3"
    server = _start(db)
    port = int(server.base_url.rsplit(":", 1)[1])
    try:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            client = await register_public_client(http, server.base_url)
            chains = []
            for _ in range(CHAINS):
                auth = await authorize_code(http, server.base_url, client["client_id"], resource=server.mcp_url)
                r = await _token(http, server, client["client_id"], grant_type="authorization_code", code=auth.code,
                                 redirect_uri=auth.redirect_uri, code_verifier=auth.verifier)
                assert r.status_code == 200
                chains.append(Chain(r.json()["refresh_token"], [r.json()["access_token"]]))
        load = Load(client["client_id"], chains)

        for _round in range(ROUNDS):
            await _run_until_killed(server, load)
            _check_database(db)  # straight after the kill, before any recovery by the server
            server = _start(db, port)
            _check_database(db)

        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            # Everything acknowledged before the kills still validates after the restarts.
            for chain in load.chains:
                for at in chain.access_tokens:
                    assert await _initialize_status(http, server, at) == (401 if chain.revoked else 200)
            for code, verifier, redirect in load.acked_codes:
                r = await _token(http, server, load.client_id, grant_type="authorization_code", code=code,
                                 redirect_uri=redirect, code_verifier=verifier)
                assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
            for code, verifier, redirect in load.uncertain_codes:
                answers = [
                    (await _token(http, server, load.client_id, grant_type="authorization_code", code=code,
                                  redirect_uri=redirect, code_verifier=verifier)).status_code
                    for _ in range(2)
                ]
                assert answers.count(200) <= 1 and answers[1] == 400
            # The last acknowledged refresh token either still works or is a consistent reuse.
            outcomes = []
            for chain in (c for c in load.chains if not c.revoked):
                r = await _token(http, server, load.client_id, grant_type="refresh_token", refresh_token=chain.current_rt)
                if r.status_code == 200:
                    outcomes.append("alive")
                    assert await _initialize_status(http, server, r.json()["access_token"]) == 200
                    assert await _initialize_status(http, server, chain.access_tokens[-1]) == 200
                else:
                    outcomes.append("revoked")
                    assert r.json()["error"] == "invalid_grant"
                    for at in chain.access_tokens:
                        assert await _initialize_status(http, server, at) == 401
        stats = server.control()["stats"]
        assert stats.get("refresh_reuse", 0) == outcomes.count("revoked")
        _check_database(db)
    finally:
        server.stop()
