"""`mcp-auth bridge` driven line by line: what no client library shows (the exact bytes on
stdout, exit codes and signals), and the sign-in requests a bridge makes on its own."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.bridge.faults import FaultProxy
from tests.bridge.helpers import Home, RawBridge, make_home
from tests.mock.helpers import MockProcess

pytestmark = pytest.mark.timeout(120)


def wait_until(predicate: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_stdout_carries_only_json_rpc_and_bad_input_gets_errors(home: Home, mock: MockProcess) -> None:
    bridge = RawBridge(home)
    try:
        assert "result" in bridge.initialize()
        bridge.send(b"this is not json\n")
        assert bridge.wait_for(lambda m: True)["error"]["code"] == -32700
        bridge.send({"jsonrpc": "1.0", "id": 7, "method": "ping"})
        assert bridge.wait_for(lambda m: True) == {
            "jsonrpc": "2.0", "id": 7,
            "error": {"code": -32600, "message": "Invalid request: not JSON-RPC 2.0."}}
        bridge.send({"jsonrpc": "2.0", "id": True, "method": "ping"})
        assert bridge.wait_for(lambda m: True)["error"]["code"] == -32600
        bridge.send(b"{" + b" " * (5 * 1024 * 1024) + b"}\n")  # over the 4 MiB line cap
        assert bridge.wait_for(lambda m: True)["error"]["code"] == -32700
        assert bridge.request("ping") == {"jsonrpc": "2.0", "id": 2, "result": {}}
        reply = bridge.request("tools/call", {"name": "echo", "arguments": {"text": "é\u2028x"}})
        assert reply["result"]["content"][0]["text"] == "é\u2028x"
        assert bridge.close_stdin() == 0  # end of input: a clean exit
        assert bridge.proc.stderr is not None and bridge.proc.stderr.read() == b""  # logs: --log-file
    finally:
        bridge.stop()
    for line in bridge.raw:  # one JSON-RPC message per line, ASCII only
        assert line.endswith(b"\n") and line.isascii()
        assert json.loads(line)["jsonrpc"] == "2.0"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_bridge_cleanly(home: Home, mock: MockProcess, sig: signal.Signals) -> None:
    bridge = RawBridge(home)
    try:
        assert "result" in bridge.initialize()
        bridge.proc.send_signal(sig)
        assert bridge.proc.wait(15) == 0
        assert bridge.proc.stderr is not None and bridge.proc.stderr.read() == b""
    finally:
        bridge.stop()
    log = home.path / "bridge.log"
    assert "bridge stopped" in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600


def test_unknown_server_is_explained_on_every_request(home: Home, mock: MockProcess) -> None:
    bridge = RawBridge(home, "nope")
    try:
        error = bridge.initialize()["error"]
        assert error["code"] == -32001
        assert "No server 'nope'" in error["message"] and "mcp-auth login URL" in error["message"]
        assert bridge.close_stdin() == 0
    finally:
        bridge.stop()


def test_cancelled_request_gets_no_answer_and_the_cancel_reaches_the_server(
    proxied_home: Home, proxied: tuple[MockProcess, FaultProxy]
) -> None:
    _mock, proxy = proxied
    bridge = RawBridge(proxied_home)
    try:
        assert "result" in bridge.initialize()
        assert "result" in bridge.request("tools/list")
        proxy.fail_next_posts("hang")
        bridge.send({"jsonrpc": "2.0", "id": "slow", "method": "tools/call",
                     "params": {"name": "echo", "arguments": {"text": "x"}}})
        time.sleep(0.5)
        bridge.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                     "params": {"requestId": "slow", "reason": "user"}})
        assert bridge.request("ping")["result"] == {}
        time.sleep(1.0)
        assert all(json.loads(line).get("id") != "slow" for line in bridge.raw)
        assert proxy.seen[-2:] == ["POST /mcp pass", "POST /mcp pass"]  # the cancel, the ping
    finally:
        bridge.stop()


def signed_out_home(tmp_path: Path, mock: MockProcess, *, display: bool) -> Home:
    home = make_home(tmp_path, display=display)
    r = home.cli("add", mock.mcp_url, "--name", "mock", "--allow-insecure-loopback")
    assert r.returncode == 0, r.stderr
    return home


def test_without_the_app_one_bridge_opens_the_browser_once_for_all(
    tmp_path: Path, mock: MockProcess
) -> None:
    home = signed_out_home(tmp_path, mock, display=True)
    bridges = [RawBridge(home) for _ in range(3)]
    try:
        errors = [b.initialize()["error"] for b in bridges]
        assert all(e["code"] == -32001 and "mcp-auth login mock" in e["message"] for e in errors)
        assert any("The sign-in page was opened in your browser" in e["message"] for e in errors)
        wait_until(lambda: home.cli("token", "mock").returncode == 0)
        for b in bridges:
            assert "result" in b.initialize()
            reply = b.request("tools/call", {"name": "echo", "arguments": {"text": "signed in"}})
            assert reply["result"]["content"][0]["text"] == "signed in"
        assert home.browser_opened() == 1  # three bridges, one sign-in page
    finally:
        for b in bridges:
            b.stop()


def test_without_a_display_the_error_says_what_to_run(tmp_path: Path, mock: MockProcess) -> None:
    home = signed_out_home(tmp_path, mock, display=False)
    bridge = RawBridge(home)
    try:
        message = bridge.initialize()["error"]["message"]
        assert message.startswith("Sign-in needed for mock")
        assert message.endswith("Or sign in from a terminal: mcp-auth login mock")
        assert "browser" not in message
        time.sleep(1)
        assert home.browser_opened() == 0
    finally:
        bridge.stop()


def test_insufficient_scope_asks_for_a_step_up_then_the_call_works(
    tmp_path: Path, mock: MockProcess
) -> None:
    home = make_home(tmp_path, display=True)
    home.login(mock.mcp_url, "mock", "--scope", "mcp:read")
    bridge = RawBridge(home)
    try:
        assert "result" in bridge.initialize()
        error = bridge.request("tools/call", {"name": "write_note", "arguments": {"text": "n"}})["error"]
        assert error["code"] == -32001 and error["data"]["reason"] == "insufficient_scope"
        assert "mcp:write" in error["data"]["scopes"]
        assert "mcp-auth login mock --scope mcp:write" in error["message"]
        assert "The sign-in page was opened in your browser" in error["message"]
        wait_until(lambda: "mcp:write" in home.cli("status", "mock", "--json").stdout)
        reply = bridge.request("tools/call", {"name": "write_note", "arguments": {"text": "n"}})
        assert "saved note" in reply["result"]["content"][0]["text"]
        assert home.browser_opened() == 2  # the first sign-in, then the step-up
    finally:
        bridge.stop()
