"""`mcp-auth login --device` (RFC 8628) end to end: the real CLI, the mock server process, real Chromium.

The CLI prints the verification address and the code; Chromium (on "another device": it
shares nothing with the CLI) opens the address, types the code, sees the consent page and
approves or denies. Then `mcp-auth token` and `mcp-auth call` work with what was stored.
Also: expiry (a 3-second code), slow_down (forced by a mock knob; the poll spacing is
measured at the server), `login` choosing the device grant itself without a display, and a
server without the grant (refused by name; `--paste` suggested).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mock.helpers import MockProcess, start_mock_process
from tests.start_page import chromium_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HEADLESS = ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "SSH_CONNECTION", "SSH_TTY")
CODE = re.compile(r"^\s+([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\s*$")
ADDRESS = re.compile(r"^\s+(http://127\.0\.0\.1:\d+/device)\s*$")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    base = {k: v for k, v in os.environ.items() if k not in HEADLESS}
    # BROWSER=false: a browser sign-in started by mistake fails at once instead of hanging.
    return {**base, "MCP_AUTH_DESKTOP_HOME": str(home), "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
            "MCP_AUTH_DESKTOP_PASSPHRASE": "device test", "BROWSER": "false"}


@pytest.fixture
def mock() -> Iterator[MockProcess]:
    proc = start_mock_process("--device-interval", "1")
    try:
        yield proc
    finally:
        proc.stop()


def cli(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcp_auth_desktop.cli.main", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=timeout, stdin=subprocess.DEVNULL)


class Login:
    """`mcp-auth login …` running; its stderr read as it comes (the code appears mid-run)."""

    def __init__(self, env: dict[str, str], *args: str, command: str = "login") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_auth_desktop.cli.main", command, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, cwd=ROOT)
        self.err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)

    def code(self, timeout: float = 30) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            codes = [m.group(1) for line in list(self.err) if (m := CODE.match(line))]
            addresses = [m.group(1) for line in list(self.err) if (m := ADDRESS.match(line))]
            if codes and addresses:
                return addresses[0], codes[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("no code was shown:\n" + "".join(self.err))

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        # Not communicate(): it would read stderr too, racing the reader thread for its lines.
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return self.proc.returncode, out, "".join(self.err)


def approve_in_chromium(address: str, code: str, decision: str = "approve") -> dict[str, str]:
    """Another device: open the plain address, type the code, read the consent page, decide."""
    with chromium_page() as page:
        page.goto(address, timeout=30_000)
        page.fill("#user-code", code.lower().replace("-", " "), timeout=30_000)  # typed loosely
        page.click("#continue", timeout=30_000)
        seen = {
            "client": page.inner_text("#client-name", timeout=30_000),
            "scopes": page.inner_text("#scopes"),
            "code": page.inner_text("#user-code"),
            "resource": page.inner_text("#resource"),
        }
        page.click(f"#{decision}", timeout=30_000)
        seen["done"] = page.inner_text("#done-title", timeout=30_000)
    return seen


def test_device_login_approved_then_token_and_call_work(mock: MockProcess, env: dict[str, str]) -> None:
    login = Login(env, mock.mcp_url, "--device", "--name", "dev", "--allow-insecure-loopback")
    address, code = login.code()
    assert address == mock.base_url + "/device"
    shown = "".join(login.err)
    assert f"{address}?user_code={code}" in shown and "expires in 10 minutes" in shown
    assert "Opening your browser" not in shown and "redirect" not in shown  # no browser, no redirect
    seen = approve_in_chromium(address, code)
    assert seen["client"] == "MCP Auth Desktop" and seen["code"] == code
    assert seen["resource"] == mock.mcp_url and "mcp:read" in seen["scopes"]
    assert seen["done"] == "Device connected"
    rc, out, err = login.finish()
    assert rc == 0, err
    assert out.startswith("Signed in to dev; token valid until")
    token = cli(env, "token", "dev")
    assert token.returncode == 0, token.stderr
    assert token.stdout.count(".") == 2  # the mock's JWT access token, nothing else
    call = cli(env, "call", "dev", "tools/list")
    assert call.returncode == 0, call.stderr
    assert "whoami" in {t["name"] for t in json.loads(call.stdout)["tools"]}
    status = json.loads(cli(env, "status", "dev", "--json").stdout)
    assert status["state"] == "signed_in" and status["has_refresh_token"]
    assert status["device_grant_supported"] is True
    assert status["registration_method"] == "dcr" and status["account"] == "demo-user"
    # Afterwards it is like any sign-in: the refresh token rotates, the account is known.
    refreshed = cli(env, "refresh", "dev")
    assert refreshed.returncode == 0 and refreshed.stdout.startswith("Refreshed dev"), refreshed.stderr
    assert mock.control()["stats"]["tokens_refreshed"] == 1
    who = cli(env, "whoami", "dev")
    assert who.returncode == 0 and who.stdout.startswith("demo-user"), who.stderr
    stats = mock.control()["stats"]
    assert stats["device_approved"] == 1 and stats["device_poll:approved"] == 1


def test_device_login_denied(mock: MockProcess, env: dict[str, str]) -> None:
    login = Login(env, mock.mcp_url, "--device", "--name", "denied", "--allow-insecure-loopback")
    address, code = login.code()
    assert approve_in_chromium(address, code, "deny")["done"] == "Request denied"
    rc, out, err = login.finish()
    assert rc == 3, err
    assert "The sign-in was denied at 127.0.0.1 (access_denied)" in err
    assert "Signed in" not in out
    assert cli(env, "token", "denied").returncode == 3


def test_device_code_expires(env: dict[str, str]) -> None:
    mock = start_mock_process("--device-interval", "1", "--device-code-ttl", "3")
    try:
        started = time.monotonic()
        login = Login(env, mock.mcp_url, "--device", "--name", "late", "--allow-insecure-loopback")
        rc, _, err = login.finish()
        assert rc == 3, err
        assert "The sign-in code from 127.0.0.1 expired after 3 seconds without being approved" in err
        assert time.monotonic() - started < 30
        polls = [p for p in mock.control()["device_polls"]]
        assert polls and all(answer == "authorization_pending" for _, answer in polls)
    finally:
        mock.stop()


def test_slow_down_is_honoured(mock: MockProcess, env: dict[str, str]) -> None:
    mock.control(knobs={"device_slow_down": 1})  # the first poll answers slow_down
    login = Login(env, mock.mcp_url, "--device", "--name", "slow", "--allow-insecure-loopback")
    address, code = login.code()
    deadline = time.monotonic() + 30
    while len(mock.control()["device_polls"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    approve_in_chromium(address, code)
    rc, _, err = login.finish()
    assert rc == 0, err
    polls = mock.control()["device_polls"]
    answers = [answer for _, answer in polls]
    assert answers[0] == "slow_down" and answers[-1] == "approved"
    assert "slow_down" not in answers[1:]  # it never polled faster than the server allowed
    gaps = [b[0] - a[0] for a, b in zip(polls, polls[1:], strict=False)]
    assert len(gaps) >= 2 and all(gap >= 5.9 for gap in gaps), gaps  # 1 s interval + 5 s, kept


def test_login_without_a_display_chooses_the_code_itself(mock: MockProcess, env: dict[str, str]) -> None:
    added = cli(env, "add", mock.mcp_url, "--name", "auto", "--allow-insecure-loopback")
    assert added.returncode == 0, added.stderr
    login = Login({k: v for k, v in env.items() if k != "BROWSER"}, "auto")
    address, code = login.code()
    approve_in_chromium(address, code)
    rc, out, err = login.finish()
    assert rc == 0, err
    assert "no display was found" in err and "signing in with a code instead" in err
    assert out.startswith("Signed in to auto")


def test_server_without_the_grant(env: dict[str, str]) -> None:
    mock = start_mock_process("--no-device-grant")
    try:
        added = cli(env, "add", mock.mcp_url, "--name", "plain", "--allow-insecure-loopback")
        assert added.returncode == 0, added.stderr
        refused = cli(env, "login", "plain", "--device")
        assert refused.returncode == 2, refused.stderr
        assert "The authorization server of plain (127.0.0.1) does not offer sign-in with a code" in refused.stderr
        assert "mcp-auth login plain --paste" in refused.stderr
        headless = cli({k: v for k, v in env.items() if k != "BROWSER"}, "login", "plain")
        assert headless.returncode == 2, headless.stderr
        assert "no display was found" in headless.stderr and "offers no sign-in with a code" in headless.stderr
        assert "mcp-auth login plain --paste" in headless.stderr
        assert mock.control()["stats"].get("device_authorization_requests", 0) == 0
    finally:
        mock.stop()


def test_call_sign_in_without_a_display_uses_the_code(mock: MockProcess, env: dict[str, str]) -> None:
    added = cli(env, "add", mock.mcp_url, "--name", "caller", "--allow-insecure-loopback")
    assert added.returncode == 0, added.stderr
    headless = {k: v for k, v in env.items() if k != "BROWSER"}
    call = Login(headless, "caller", "tools/list", "--sign-in", command="call")
    address, code = call.code()
    approve_in_chromium(address, code)
    rc, out, err = call.finish()
    assert rc == 0, err
    assert "no display was found" in err and "signing in with a code instead" in err
    assert "Opening your browser" not in err and "redirect" not in err
    assert "whoami" in {t["name"] for t in json.loads(out)["tools"]}
    assert mock.control()["stats"]["device_poll:approved"] == 1
    # Signed in now: the next call needs no sign-in, and asks for no code.
    again = cli(headless, "call", "caller", "tools/list", "--sign-in")
    assert again.returncode == 0, again.stderr
    assert "code" not in again.stderr
    assert mock.control()["stats"]["device_authorization_requests"] == 1


def test_call_sign_in_without_a_display_or_the_grant_says_how(env: dict[str, str]) -> None:
    mock = start_mock_process("--no-device-grant")
    try:
        added = cli(env, "add", mock.mcp_url, "--name", "plaincall", "--allow-insecure-loopback")
        assert added.returncode == 0, added.stderr
        headless = {k: v for k, v in env.items() if k != "BROWSER"}
        refused = cli(headless, "call", "plaincall", "tools/list", "--sign-in")
        assert refused.returncode == 2, refused.stderr
        assert ("The authorization server of plaincall (127.0.0.1) does not offer sign-in with a "
                "code") in refused.stderr
        assert "No browser can be opened here (no display was found" in refused.stderr
        assert "mcp-auth login plaincall --paste" in refused.stderr
        assert "Then run this command again." in refused.stderr
        assert refused.stdout == ""
        stats = mock.control()["stats"]
        assert stats.get("device_authorization_requests", 0) == 0
        assert stats.get("register_requests", 0) == 0  # refused before anything was registered
    finally:
        mock.stop()
