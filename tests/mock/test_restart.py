"""Persistence: keys, clients, grants and tokens survive a restart; revocations stay."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.mock.helpers import (
    asgi_client,
    make_app,
    mcp_initialize,
    obtain_tokens,
    refresh,
    start_mock_process,
)

BASE = "http://127.0.0.1:8000"
MCP = BASE + "/mcp"


async def init_status(http: httpx.AsyncClient, url: str, token: str) -> int:
    response = await http.post(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
                               json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                     "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    return response.status_code


async def test_restart_in_process_keeps_tokens_and_revocations(tmp_path: Path) -> None:
    db = str(tmp_path / "mock.sqlite")
    app, state = make_app(db_path=db)
    async with asgi_client(app) as http:
        client_id, kept = await obtain_tokens(http, BASE, MCP)
        other_id, revoked = await obtain_tokens(http, BASE, MCP)
        await http.post(BASE + "/revoke", data={"token": revoked["refresh_token"], "client_id": other_id})
        kid = state.key.kid
    state.close()
    assert state.store.path == db
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # Secrets are stored only as digests.
        dump = "\n".join(conn.iterdump())
    assert kept["access_token"] not in dump and kept["refresh_token"] not in dump

    app2, state2 = make_app(db_path=db)
    async with asgi_client(app2) as http:
        assert state2.key.kid == kid
        assert await init_status(http, MCP, kept["access_token"]) == 200
        assert await init_status(http, MCP, revoked["access_token"]) == 401
        rotated = await refresh(http, BASE, client_id, kept["refresh_token"], resource=MCP)
        assert rotated.status_code == 200
        assert (await refresh(http, BASE, other_id, revoked["refresh_token"], resource=MCP)).json()["error"] == "invalid_grant"
    state2.close()


@pytest.mark.e2e
async def test_restart_of_the_real_process(tmp_path: Path) -> None:
    db = str(tmp_path / "mock.sqlite")
    first = start_mock_process("--auto-approve", "--db", db)
    port = first.base_url.rsplit(":", 1)[1]
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            client_id, kept = await obtain_tokens(http, first.issuer, first.mcp_url)
            other_id, revoked = await obtain_tokens(http, first.issuer, first.mcp_url)
            assert (await http.post(first.issuer + "/revoke", data={"token": revoked["access_token"], "client_id": other_id})).status_code == 200
            assert await init_status(http, first.mcp_url, revoked["access_token"]) == 401
    finally:
        first.stop()
    second = start_mock_process("--auto-approve", "--db", db, "--port", port)
    try:
        assert second.mcp_url == first.mcp_url
        async with httpx.AsyncClient(timeout=20) as http:
            headers = await mcp_initialize(http, second.mcp_url, kept["access_token"])
            listing = await http.post(second.mcp_url, headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            assert listing.status_code == 200
            assert await init_status(http, second.mcp_url, revoked["access_token"]) == 401
            assert (await refresh(http, second.issuer, client_id, kept["refresh_token"], resource=second.mcp_url)).status_code == 200
    finally:
        second.stop()
