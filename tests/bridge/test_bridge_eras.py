"""The bridge between protocol eras, with the official MCP Python SDK on both ends.

* a 2026-07-28 client (ClientSession.discover, then stamped requests) and the mock server
  pinned to 2025-11-25: the bridge opens a legacy session and answers in 2026 terms;
* a legacy client (initialize) and the mock server pinned to 2026-07-28, which refuses
  `initialize`: the bridge answers it from server/discover and speaks 2026 upstream;
* a 2026-07-28 client and the 2026-only mock: forwarded as is, with the 2026 headers;
* a legacy client (initialize) and the SDK server spoken to in 2026-07-28 only
  (`--upstream-era modern`): the bridge answers initialize from server/discover and adds
  `_meta` and the 2026 headers to every request;
* a 2026-07-28 client and the SDK server in 2026-07-28: forwarded, with the headers.
The proxy in front of the servers records the MCP-Protocol-Version header of each request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.bridge.faults import FaultProxy, sdk_server_behind_proxy
from tests.bridge.helpers import ROOT, Home, make_home, stats
from tests.mock.helpers import MockProcess, start_mock_process

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def mock_2025() -> Iterator[MockProcess]:
    proc = start_mock_process("--auto-approve", "--protocol", "2025-11-25")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def mock_2026() -> Iterator[MockProcess]:
    proc = start_mock_process("--auto-approve", "--protocol", "2026-07-28")
    try:
        yield proc
    finally:
        proc.stop()


def signed_in(tmp_path: Path, mock: MockProcess) -> Home:
    home = make_home(tmp_path)
    home.login(mock.mcp_url, "mock")
    return home


def eras(mock: MockProcess) -> tuple[int, int]:
    counts = stats(mock)
    return int(counts.get("mcp_era:2026-07-28", 0)), int(counts.get("mcp_era:handshake", 0))


@pytest.fixture(scope="module")
def sdk_server() -> Iterator[tuple[MockProcess, FaultProxy]]:
    with sdk_server_behind_proxy() as pair:
        yield pair


@pytest.fixture()
def sdk_home(tmp_path: Path, sdk_server: tuple[MockProcess, FaultProxy]) -> Home:
    home = make_home(tmp_path)
    home.login(sdk_server[0].mcp_url, "sdk")
    return home


asked: list[str] = []


async def confirm(context: Any, params: Any) -> Any:
    asked.append(params.message)
    return types.ElicitResult(action="accept", content={"confirm": True})


@asynccontextmanager
async def client(home: Home, name: str, *extra: str) -> AsyncIterator[ClientSession]:
    argv = home.bridge_argv(name, "--log-file", str(home.path / "bridge.log"), *extra)
    with home.errlog("a") as errlog:
        async with stdio_client(StdioServerParameters(command=argv[0], args=argv[1:], env=home.env,
                                                      cwd=str(ROOT)), errlog=errlog) as streams:
            async with ClientSession(*streams, elicitation_callback=confirm) as session:
                yield session


def text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def test_modern_client_with_a_legacy_only_server(tmp_path: Path, mock_2025: MockProcess) -> None:
    home = signed_in(tmp_path, mock_2025)
    before = eras(mock_2025)
    async with client(home, "mock") as session:
        found = await session.discover()
        assert found.supported_versions == ["2026-07-28"]
        assert session.protocol_version == "2026-07-28"
        tools = await session.list_tools()
        assert "echo" in {t.name for t in tools.tools}
        assert text(await session.call_tool("echo", {"text": "2026 to 2025"})) == "2026 to 2025"
    assert "opening a legacy session" in (home.path / "bridge.log").read_text()
    modern, legacy = eras(mock_2025)
    assert modern == before[0] and legacy > before[1]


async def test_legacy_client_with_a_2026_only_server(tmp_path: Path, mock_2026: MockProcess) -> None:
    home = signed_in(tmp_path, mock_2026)
    before = eras(mock_2026)
    async with client(home, "mock") as session:
        init = await session.initialize()
        assert init.protocol_version == "2025-11-25"
        assert init.server_info.name == "mcp-auth-mock-server"
        assert "echo" in {t.name for t in (await session.list_tools()).tools}
        assert text(await session.call_tool("echo", {"text": "2025 to 2026"})) == "2025 to 2026"
        await session.send_ping()
        # A multi round-trip (input_required): the bridge asks the client (elicitation/create,
        # as a legacy server would) and retries with its answer and the server's requestState.
        asked.clear()
        result = await session.call_tool("confirm_action", {"action": "delete"})
        assert not result.is_error and text(result) == "delete: confirmed"
        assert asked == ["Confirm: delete?"]
    assert "translating: legacy client" in (home.path / "bridge.log").read_text()
    modern, legacy = eras(mock_2026)
    assert modern > before[0] and legacy == before[1]


async def test_modern_client_with_the_2026_only_server(tmp_path: Path, mock_2026: MockProcess) -> None:
    home = signed_in(tmp_path, mock_2026)
    async with client(home, "mock") as session:
        found = await session.discover()
        assert found.supported_versions == ["2026-07-28"]
        result = await session.call_tool("regional_echo", {"text": "hi", "region": "eu-west"})
        assert text(result) == "[eu-west] hi"  # the server checks the Mcp-Param-Region header
    log = (home.path / "bridge.log").read_text()
    assert "translating" not in log and "opening a legacy session" not in log


async def test_an_event_stream_closed_early_is_resumed_with_last_event_id(
    home: Home, mock: MockProcess
) -> None:
    async with client(home, "mock") as session:
        await session.initialize()
        result = await session.call_tool("test_reconnection", {})
        assert not result.is_error and text(result)
    assert "resuming the event stream" in (home.path / "bridge.log").read_text()


async def test_legacy_client_with_a_server_spoken_to_in_2026(
    sdk_home: Home, sdk_server: tuple[MockProcess, FaultProxy]
) -> None:
    proxy = sdk_server[1]
    start = len(proxy.versions)
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with client(sdk_home, "sdk", "--upstream-era", "modern") as session:
        init = await session.initialize()
        assert init.protocol_version == "2025-11-25"  # what the legacy client asked for
        assert init.server_info.name == "sdk-test-server"  # from server/discover
        assert "progress_echo" in {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool("progress_echo", {"text": "old"}, progress_callback=on_progress)
        assert text(result) == "done: old"
        assert progress == [1, 2, 3]
        await session.send_ping()  # 2026-07-28 has no ping: answered by the bridge
    sent = proxy.versions[start:]
    assert sent and set(sent) == {"2026-07-28"}  # every request upstream was a 2026 one
    assert "translating: legacy client" in (sdk_home.path / "bridge.log").read_text()


async def test_modern_client_with_a_modern_server(
    sdk_home: Home, sdk_server: tuple[MockProcess, FaultProxy]
) -> None:
    proxy = sdk_server[1]
    start = len(proxy.versions)
    async with client(sdk_home, "sdk") as session:
        found = await session.discover()
        assert "2026-07-28" in found.supported_versions
        assert "announce" in {t.name for t in (await session.list_tools()).tools}
        assert text(await session.call_tool("progress_echo", {"text": "new"})) == "done: new"
    assert set(proxy.versions[start:]) == {"2026-07-28"}
    log = (sdk_home.path / "bridge.log").read_text()
    assert "translating" not in log and "opening a legacy session" not in log
