"""Races on a real uvicorn process with a SQLite file: one code, one refresh token, x50."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.mock.helpers import (
    MockProcess,
    authorize_code,
    exchange_code,
    obtain_tokens,
    refresh,
    register_public_client,
    start_mock_process,
)

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def initialize_status(http: httpx.AsyncClient, server: MockProcess, token: str) -> int:
    response = await http.post(
        server.mcp_url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
    )
    return response.status_code


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockProcess]:
    process = start_mock_process("--auto-approve", "--db", str(tmp_path / "as.sqlite"))
    try:
        yield process
    finally:
        process.stop()


async def test_fifty_parallel_redemptions_of_one_code(server: MockProcess) -> None:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        client = await register_public_client(http, server.issuer)
        auth = await authorize_code(http, server.issuer, client["client_id"], resource=server.mcp_url)
        results = await asyncio.gather(
            *(exchange_code(http, server.issuer, client["client_id"], auth, resource=server.mcp_url) for _ in range(50))
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] + [400] * 49
        assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
        winner = next(r for r in results if r.status_code == 200).json()
        # The replays revoked what the single successful redemption issued.
        assert await initialize_status(http, server, winner["access_token"]) == 401
        again = await refresh(http, server.issuer, client["client_id"], winner["refresh_token"], resource=server.mcp_url)
        assert again.json()["error"] == "invalid_grant"
    stats = server.control()["stats"]
    assert stats["code_replays"] == 49 and stats["tokens_issued"] == 1


async def test_fifty_parallel_uses_of_one_refresh_token(server: MockProcess) -> None:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=30) as http:
        client_id, tokens = await obtain_tokens(http, server.issuer, server.mcp_url)
        results = await asyncio.gather(
            *(refresh(http, server.issuer, client_id, tokens["refresh_token"], resource=server.mcp_url) for _ in range(50))
        )
        assert sorted(r.status_code for r in results) == [200] + [400] * 49
        winner = next(r for r in results if r.status_code == 200).json()
        assert await initialize_status(http, server, winner["access_token"]) == 401
        assert await initialize_status(http, server, tokens["access_token"]) == 401
        follow = await refresh(http, server.issuer, client_id, winner["refresh_token"], resource=server.mcp_url)
        assert follow.json()["error"] == "invalid_grant"
    assert server.control()["stats"]["refresh_reuse"] == 49


async def test_two_processes_sharing_one_database_redeem_a_code_once(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.sqlite")
    first = start_mock_process("--auto-approve", "--db", db)
    try:
        port = first.base_url.rsplit(":", 1)[1]
        first.stop()
        # Both serve the same issuer and resource (b as if behind a proxy), so only the
        # shared database decides which redemption wins.
        a = start_mock_process("--auto-approve", "--db", db, "--port", port)
        b_port = str(_free_port())
        b = start_mock_process("--auto-approve", "--db", db, "--port", b_port, "--public-url", a.base_url,
                               "--allowed-host", f"127.0.0.1:{b_port}")
        b_base = f"http://127.0.0.1:{b_port}"
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                client = await register_public_client(http, a.issuer)
                auth = await authorize_code(http, a.issuer, client["client_id"], resource=a.mcp_url)
                calls = []
                for i in range(20):
                    target = a.base_url if i % 2 == 0 else b_base
                    calls.append(http.post(target + "/token", data={
                        "grant_type": "authorization_code", "code": auth.code, "redirect_uri": auth.redirect_uri,
                        "client_id": client["client_id"], "code_verifier": auth.verifier, "resource": a.mcp_url}))
                results = await asyncio.gather(*calls)
            assert sorted(r.status_code for r in results) == [200] + [400] * 19
            assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
            replays = a.control()["stats"].get("code_replays", 0), b.control(via=b_base)["stats"].get("code_replays", 0)
            assert sum(replays) == 19 and min(replays) > 0
        finally:
            a.stop()
            b.stop()
    finally:
        first.stop()
