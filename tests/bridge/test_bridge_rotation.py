"""Five `mcp-auth bridge` processes (each started by an MCP Python SDK client) and the desktop
app (a real `python -m mcp_auth_desktop` process) share one server's tokens through several
rotations of a 6-second access token with a rotating refresh token.

Measured at the server, not in our code: a proxy in front of the mock server timestamps every
POST to the token endpoint, and the mock's own counters say how many refreshes it served and
whether any refresh token was presented twice (which revokes the whole grant family).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.bridge.faults import FaultProxy, mock_behind_proxy
from tests.bridge.helpers import ROOT, Home, make_home, stats
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.timeout(180)

TTL = 6.0
DURATION = 24.0
BRIDGES = 5


def start_app(home: Home) -> subprocess.Popen[bytes]:
    """The desktop app as the user runs it (tray, background refresh), on the same data."""
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_auth_desktop", "--hidden"], cwd=ROOT, env=home.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


@pytest.fixture()
def rotating() -> Iterator[tuple[MockProcess, FaultProxy]]:
    with mock_behind_proxy("--auto-approve", "--access-token-ttl", str(int(TTL))) as pair:
        yield pair


async def test_five_bridges_and_the_app_send_one_refresh_per_rotation(
    tmp_path: Path, rotating: tuple[MockProcess, FaultProxy]
) -> None:
    mock, proxy = rotating
    home: Home = make_home(tmp_path, display=True)
    home.login(mock.mcp_url, "mock")
    app = start_app(home)
    calls = [0] * BRIDGES
    try:
        async with AsyncExitStack() as stack:
            errlog = stack.enter_context(home.errlog("w"))
            sessions: list[ClientSession] = []
            for i in range(BRIDGES):
                argv = home.bridge_argv("mock", "--log-file", str(home.path / f"bridge{i}.log"))
                streams = await stack.enter_async_context(stdio_client(
                    StdioServerParameters(command=argv[0], args=argv[1:], env=home.env, cwd=str(ROOT)),
                    errlog=errlog))
                session = await stack.enter_async_context(ClientSession(*streams))
                await session.initialize()
                sessions.append(session)
            start_posts = len(proxy.token_posts)
            before = stats(mock)
            started = time.monotonic()

            async def keep_calling(i: int, session: ClientSession) -> None:
                while time.monotonic() - started < DURATION:
                    result = await session.call_tool("echo", {"text": f"b{i}"})
                    assert not result.is_error
                    calls[i] += 1
                    await asyncio.sleep(0.2)

            await asyncio.gather(*(keep_calling(i, s) for i, s in enumerate(sessions)))
        assert app.poll() is None, "the app exited"
    finally:
        app.terminate()
        try:
            app.wait(15)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait(10)
    after = stats(mock)  # everyone has stopped: nothing is in flight
    # The app took part: its audit trail (bridges keep none) shows its own refreshes.
    app_refreshes = (home.path / "audit.log").read_text().count('"new":"refreshing"')

    refreshes = [t for t, grant in proxy.token_posts[start_posts:] if grant == "refresh_token"]
    served = after.get("token_requests:refresh_token", 0) - before.get("token_requests:refresh_token", 0)
    gaps = [b - a for a, b in zip(refreshes, refreshes[1:], strict=False)]
    summary = (f"calls per bridge {calls}; refreshes {len(refreshes)} (served {served}, by the app "
               f"{app_refreshes}); gaps {[round(g, 2) for g in gaps]}; stats {after}")
    print(summary)
    assert min(calls) >= 20, summary  # every bridge kept working throughout
    assert len(refreshes) == served, summary  # what the proxy saw is what the mock served
    assert len(refreshes) >= 3, summary  # several rotations happened
    assert app_refreshes >= 1, summary
    # No refresh token was ever presented twice: no invalid_grant, no family revocation.
    assert after.get("refresh_reuse", 0) == before.get("refresh_reuse", 0) == 0, summary
    # One refresh per rotation: each token lives at least 3/8 of its lifetime before the next
    # refresh (the app refreshes at T/2 + up to T/8 jitter ahead of expiry, bridges at T/2).
    assert min(gaps) >= TTL * 3 / 8 - 0.5, summary
    # A rotation never lagged: every request carried a token the server accepted.
    assert after.get("rs_invalid_token", 0) == before.get("rs_invalid_token", 0), summary
