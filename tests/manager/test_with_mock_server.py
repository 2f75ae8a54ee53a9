"""The manager with the real OAuthClient against the mock server running as a process.

Covers the issue's "refresh under injected 503, 429 and invalid_grant" and
"two CLI processes and the manager refreshing one server at once".
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.events import RefreshFailed, SignInNeeded
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import CredentialKey, ServerOptions, TokenSet
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.storage import open_storage
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.mock.helpers import TOOLS_LIST, MockProcess, bearer_status
from tests.start_page import HeadlessApprover

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "integration test passphrase"


def stats(mock: MockProcess) -> dict[str, int]:
    return dict(mock.control()["stats"])


@pytest.fixture
async def manager(mock: MockProcess) -> AsyncIterator[TokenManager]:
    http = make_http_client()
    m = TokenManager(
        http=http, vault=MemoryVault(), settings=MemorySettings(), browser=HeadlessApprover()
    )
    await m.start(background=False)
    await m.add_server(
        mock.mcp_url, name="mock", options=ServerOptions(allow_insecure_loopback=True)
    )
    await m.sign_in("mock")
    yield m
    await m.aclose()
    await http.aclose()


async def test_sign_in_token_and_call(manager: TokenManager):
    view = manager.get("mock")
    assert view.state is ServerState.SIGNED_IN
    assert view.registration_method == "dcr"
    result = await manager.call("mock", "tools/list")
    assert isinstance(result, dict) and result.get("tools")


@pytest.mark.parametrize("fail_with", ["503", "429"])
async def test_transient_refresh_failure_keeps_tokens(
    manager: TokenManager, mock: MockProcess, fail_with: str, caplog
):
    events: list[object] = []
    manager.subscribe(events.append)
    before = await manager.get_token("mock", min_ttl=0)
    mock.control(knobs={"fail_next": 1, "fail_with": fail_with})
    with caplog.at_level(logging.INFO), pytest.raises(errors.McpAuthError) as info:
        await manager.refresh("mock")
    assert info.value.transient
    assert manager.get("mock").state is ServerState.SIGNED_IN
    assert await manager.get_token("mock", min_ttl=0) == before  # kept and still served
    failed = [e for e in events if isinstance(e, RefreshFailed)]
    assert failed and failed[0].transient and failed[0].retry_in is not None
    assert not [e for e in events if isinstance(e, SignInNeeded)]
    # The next attempt succeeds with the same refresh token: nothing was lost.
    await manager.refresh("mock")
    assert await manager.get_token("mock", min_ttl=0) != before
    assert before not in caplog.text


async def test_invalid_grant_needs_sign_in(manager: TokenManager, mock: MockProcess, caplog):
    mock.control(knobs={"fail_next": 1, "fail_with": "invalid_grant"})
    with caplog.at_level(logging.WARNING), pytest.raises(errors.SignInRequiredError):
        await manager.refresh("mock")
    assert manager.get("mock").state is ServerState.SIGN_IN_NEEDED
    with pytest.raises(errors.SignInRequiredError):
        await manager.get_token("mock")
    await manager.sign_in("mock")
    assert manager.get("mock").state is ServerState.SIGNED_IN


async def test_revoke_kills_the_token_at_the_server(manager: TokenManager, mock: MockProcess):
    token = await manager.get_token("mock")
    report = await manager.revoke("mock")
    assert report.supported and report.refresh_token_revoked and not report.errors
    async with httpx.AsyncClient(trust_env=False) as c:
        assert await bearer_status(c, mock.mcp_url, token, TOOLS_LIST) == 401
    report = await manager.remove("mock")
    assert report.registration_deleted is True


# ------------------------------------------------------------ cross-process


def cli(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MCP_AUTH_DESKTOP_HOME": str(home),
        "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
        "MCP_AUTH_DESKTOP_PASSPHRASE": PASSPHRASE,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


async def test_two_cli_processes_and_the_manager_refresh_once(
    mock: MockProcess, monkeypatch: pytest.MonkeyPatch
):
    home = Path(os.environ["MCP_AUTH_DESKTOP_HOME"])
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", PASSPHRASE)
    vault, settings = open_storage(home)
    http = make_http_client()
    m = TokenManager(http=http, vault=vault, settings=settings, browser=HeadlessApprover())
    try:
        await m.start(background=False)
        view = await m.add_server(
            mock.mcp_url, name="shared", options=ServerOptions(allow_insecure_loopback=True)
        )
        await m.sign_in("shared")
        # Make the token about to expire, as if it had been issued long ago.
        key = CredentialKey(view.issuer or "", m.get("shared").client_id or "", view.resource or "")
        raw = await vault.get(key.storage_name())
        assert raw is not None
        assert TokenSet.from_dict(raw).refresh_token
        now = time.time()
        raw["issued_at"], raw["expires_at"] = now - 590, now + 10
        await vault.put(key.storage_name(), raw)
        await m.aclose()
        m = TokenManager(http=http, vault=vault, settings=settings)
        await m.start(background=False)

        before = stats(mock)
        procs = [cli(home, "token", "shared", "--min-ttl", "120") for _ in range(2)]
        ours = await m.get_token("shared", min_ttl=120)
        outs = [await asyncio.to_thread(p.communicate, timeout=60) for p in procs]
        after = stats(mock)
        for p, (out, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
            assert out == ours + "\n"
        refreshes = after.get("token_requests:refresh_token", 0) - before.get(
            "token_requests:refresh_token", 0
        )
        assert refreshes == 1
        assert after.get("refresh_reuse", 0) == before.get("refresh_reuse", 0)
        # No family revocation: the token works and the next refresh still succeeds.
        assert (await m.call("shared", "tools/list")).get("tools")
        await m.refresh("shared")
    finally:
        await m.aclose()
        await http.aclose()
        await vault.aclose()


async def test_step_up_on_insufficient_scope(mock: MockProcess):
    http = make_http_client()
    approver = HeadlessApprover()
    m = TokenManager(http=http, vault=MemoryVault(), settings=MemorySettings(), browser=approver)
    try:
        await m.start(background=False)
        await m.add_server(
            mock.mcp_url,
            name="narrow",
            scopes=("mcp:read",),
            options=ServerOptions(allow_insecure_loopback=True),
        )
        await m.sign_in("narrow")
        assert "mcp:write" not in m.get("narrow").granted_scopes
        call = ("narrow", "tools/call", {"name": "write_note", "arguments": {"text": "hi"}})
        with pytest.raises(errors.SignInRequiredError):
            await m.call(*call)  # not interactive: no browser, a clear error
        before = len(approver.tasks)
        result = await m.call(*call, interactive=True)
        assert not result.get("isError"), result
        assert len(approver.tasks) == before + 1  # exactly one step-up authorization
        granted = set(m.get("narrow").granted_scopes)
        assert {"mcp:read", "mcp:write"} <= granted  # the union, not a replacement
    finally:
        await m.aclose()
        await http.aclose()
