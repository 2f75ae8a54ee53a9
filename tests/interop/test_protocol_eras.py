"""Issue 13 interop: ``mcp-auth call`` and the GUI's Test button against third-party MCP servers,
in every protocol era each one speaks (servers and their gateway: tests/interop/era_servers.py).

* the reference ``server-everything`` speaks 2025-11-25 only: the client's ``server/discover``
  probe gets a 400 and it falls back to ``initialize``;
* the official Python SDK's ``MCPServer`` speaks 2026-07-28 (found by the probe) and, for a
  client that remembers the legacy era (as one stored by an older app would), 2025-11-25.

Each run records which revisions were spoken and writes them into ``docs/compatibility.md``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_auth_desktop.core.mcp.era import ProtocolEra
from mcp_auth_desktop.core.mcp.memory import STATUS_KEY
from mcp_auth_desktop.storage import open_storage
from tests.interop.era_report import RESULTS, record, write_section
from tests.interop.era_servers import ROOT, EraServer, era_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSPHRASE = "protocol era passphrase"
BROWSER = f"{sys.executable} {ROOT / 'tests' / 'interop' / 'era_browser.py'}"


@pytest.fixture(scope="module", autouse=True)
def _compatibility_section() -> Iterator[None]:
    """After the module: the revisions each server spoke go into docs/compatibility.md."""
    yield
    if {"everything", "python-sdk", "ts-sdk"} <= set(RESULTS):
        write_section(ROOT / "docs" / "compatibility.md")


@pytest.fixture(params=["everything", "python-sdk", "ts-sdk"])
def server(request: pytest.FixtureRequest) -> Iterator[EraServer]:
    with era_server(request.param) as s:
        yield s


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", PASSPHRASE)
    return {**os.environ, "BROWSER": BROWSER}


def mcp_auth(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )


def protocol_lines(stderr: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stderr.splitlines() if line.split(": ", 1)[0] in
                ("Protocol", "Server", "Capabilities", "Instructions"))


async def set_remembered_era(name: str, era: ProtocolEra) -> None:
    """What an older app (or one that met this server before) stored for it."""
    _vault, settings = open_storage(Path(os.environ["MCP_AUTH_DESKTOP_HOME"]))

    def change(doc: dict[str, Any]) -> None:
        servers = [s for s in doc["servers"] if s["name"] == name]
        status = doc.setdefault("server_status", {}).setdefault(servers[0]["id"], {})
        status[STATUS_KEY] = {"era": era.to_dict()}

    await settings.update(change)


def call_tools(env: dict[str, str], server: EraServer, name: str) -> tuple[list[str], str, dict[str, str]]:
    listed = mcp_auth(env, "call", name, "tools/list", "--no-sign-in")
    assert listed.returncode == 0, listed.stderr
    tools = [t["name"] for t in json.loads(listed.stdout)["tools"]]
    params = json.dumps({"name": server.tool, "arguments": server.arguments})
    called = mcp_auth(env, "call", name, "tools/call", params, "--no-sign-in")
    assert called.returncode == 0, called.stderr
    text = json.loads(called.stdout)["content"][0]["text"]
    return tools, text, protocol_lines(called.stderr)


async def test_mcp_auth_call_lists_and_calls_tools_in_each_era(server: EraServer, env: dict[str, str]) -> None:
    name = f"era-{server.key}"
    r = await asyncio.to_thread(mcp_auth, env, "add", server.url, "--name", name, "--allow-insecure-loopback")
    assert r.returncode == 0, r.stderr
    r = await asyncio.to_thread(mcp_auth, env, "login", name)
    assert r.returncode == 0, r.stderr

    # First contact: the client finds the era itself (probe, then initialize for a legacy server).
    newest = server.eras[0]
    tools, text, said = await asyncio.to_thread(call_tools, env, server, name)
    assert server.tool in tools and server.expected_text in text
    assert said["Protocol"].startswith(f"MCP {newest} ")
    assert said["Server"] and "tools" in said["Capabilities"]
    record(server, newest, tools, said)
    status = await asyncio.to_thread(mcp_auth, env, "status", name)
    assert status.returncode == 0, status.stderr
    assert "Protocol: " in status.stdout and said["Protocol"] in status.stdout

    # Remembered: no probe this time (the gateway forwards only the call itself, or the
    # legacy handshake and the call).
    before = list(server.gateway.forwarded)
    tools_again, _text, said_again = await asyncio.to_thread(call_tools, env, server, name)
    assert said_again["Protocol"] == said["Protocol"] and tools_again == tools
    forwarded = server.gateway.forwarded[len(before):]
    per_call = 1 if newest == "2026-07-28" else None
    if per_call is not None:
        assert forwarded == ["POST"] * 2  # tools/list and tools/call: no server/discover
    else:
        # initialize, initialized, request, DELETE; twice; never a second probe.
        assert forwarded.count("POST") == 6

    # Every other era the server speaks, as a client that remembered it would.
    for older in server.eras[1:]:
        await set_remembered_era(name, ProtocolEra.legacy(older))
        tools_old, text_old, said_old = await asyncio.to_thread(call_tools, env, server, name)
        assert said_old["Protocol"].startswith(f"MCP {older} (session, initialize)")
        assert server.expected_text in text_old and server.tool in tools_old
        record(server, older, tools_old, said_old)
