"""Interop of record: the real ``mcp-auth`` CLI against MCP servers people actually run.

For each server (``servers.py``): add, login, token, call tools/list, a forced refresh,
login again (same registration, same callback port), a restart of the authorization
server (it forgets our client and tokens), revoke, remove. Each step is one assertion;
its outcome is recorded and ``docs/compatibility.md`` is written from the records at
the end of the session (``conftest.py``).

What a server does not offer is asserted as *said so to the user*, not skipped: no
refresh token (``refresh`` must say so), no revocation endpoint (``revoke`` must say so).
After the restart the server's answer to the now unknown token decides what is
required: a 401 must be recovered by the client on its own with at most one browser
sign-in; any other answer (the TypeScript example answers HTTP 500) must end the
command at once with what happened and the one command that recovers, and that
command must then recover with one browser sign-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.interop.report import RESULTS, ServerResults
from tests.interop.servers import ROOT, SERVER_KEYS, InteropServer, make_server

pytestmark = [pytest.mark.interop, pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

BROWSER_SCRIPT = Path(__file__).with_name("browser_signin.py")
PASSPHRASE = "interop passphrase"
#: A command that is told to fail fast must end within this many seconds.
FAST_S = 30.0


@dataclass
class Outcome:
    text: str = ""


@dataclass
class Session:
    """One server, one isolated app home, one browser log."""

    server: InteropServer
    env: dict[str, str]
    browser_log: Path
    results: ServerResults
    seen: int = 0
    transcript: list[str] = field(default_factory=list)

    def cli(self, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=timeout,
        )
        self.transcript.append(f"$ mcp-auth {' '.join(args)} -> {r.returncode}\n{r.stderr.strip()}")
        return r

    def status(self) -> dict[str, Any]:
        r = self.cli("status", self.server.key, "--json")
        assert r.returncode == 0, r.stderr
        data: dict[str, Any] = json.loads(r.stdout)
        return data

    def browser_lines(self) -> list[str]:
        """Browser log lines since the last call, once every browser opened since has ended.

        The app returns as soon as the callback arrives; the browser process logs where it
        landed a moment later.
        """
        deadline = time.monotonic() + 30
        while True:
            lines = self.browser_log.read_text().splitlines() if self.browser_log.exists() else []
            new = lines[self.seen :]
            ended = sum(1 for line in new if line.split(" ")[1:2] in (["landed"], ["stuck"], ["failed"]))
            if ended >= _opens(new) or time.monotonic() > deadline:
                self.seen = len(lines)
                return new
            time.sleep(0.2)

    def context(self) -> str:
        log = self.server.log_path.read_text(errors="replace")[-1500:] if self.server.log_path else ""
        return "\n".join(self.transcript[-4:]) + "\n--- browser\n" + (
            self.browser_log.read_text() if self.browser_log.exists() else ""
        ) + "\n--- server log (tail)\n" + log

    @contextmanager
    def step(self, name: str) -> Iterator[Outcome]:
        outcome = Outcome()
        try:
            yield outcome
        except BaseException as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.results.record(name, False, first[:200])
            raise
        self.results.record(name, True, outcome.text)


def _opens(lines: list[str]) -> int:
    return sum(1 for line in lines if line.split(" ", 1)[-1].startswith("open "))


def _landed_port(lines: list[str]) -> int | None:
    for line in lines:
        parts = line.split(" ")
        if len(parts) > 2 and parts[1] == "landed":
            return int(parts[2])
    return None


def _port_of(uri: str | None) -> int | None:
    return urlsplit(uri).port if uri else None


def _probe(url: str, token: str) -> int:
    """The server's own answer to a bearer token (an MCP initialize)."""
    with httpx.Client(trust_env=False, timeout=15) as c:
        r = c.post(
            url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
            },
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "interop-probe", "version": "0"},
                },
            },
        )
        return r.status_code


@pytest.fixture(params=SERVER_KEYS)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    key: str = request.param
    server = make_server(key, tmp_path)
    server.start()
    results = ServerResults(
        key=key,
        title=server.title,
        version=server.version(),
        authorization_server=server.authorization_server(),
        url=server.mcp_url,
    )
    for text in server.known_deviations():
        results.note(text)
    RESULTS[key] = results
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = {
        **os.environ,
        "MCP_AUTH_DESKTOP_HOME": str(home),
        "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
        "MCP_AUTH_DESKTOP_PASSPHRASE": PASSPHRASE,
        "BROWSER": f"{sys.executable} {BROWSER_SCRIPT}",
        "INTEROP_BROWSER_LOG": str(tmp_path / "browser.log"),
    }
    try:
        yield Session(server, env, tmp_path / "browser.log", results)
    finally:
        server.stop()


@pytest.mark.timeout(900)
def test_server(session: Session) -> None:
    s, name = session, session.server.key
    r: subprocess.CompletedProcess[str]

    with s.step("add") as out:
        r = s.cli("add", s.server.mcp_url, "--name", name, "--allow-insecure-loopback")
        assert r.returncode == 0, r.stderr
        view = s.status()
        assert view["url"] == s.server.mcp_url, "the URL the user gave must be kept"
        assert view["state"] == "needs_sign_in", view
        out.text = "discovered the authorization server; URL kept as given"

    with s.step("login") as out:
        r = s.cli("login", name)
        lines = s.browser_lines()
        assert r.returncode == 0, r.stderr + s.context()
        assert _opens(lines) == 1, lines
        first = s.status()
        assert first["state"] == "signed_in", first
        assert _landed_port(lines) == _port_of(first["redirect_uri"]), lines
        consent = sum(1 for line in lines if " consent" in line)
        out.text = "1 browser sign-in" + (" (consent page clicked)" if consent else "")
        if not consent:
            s.results.note(
                "Its authorization server approves without showing a consent page (a demo "
                "server); the browser is sent straight back to the app."
            )

    with s.step("token") as out:
        r = s.cli("token", name, "--min-ttl", "0")
        assert r.returncode == 0, r.stderr
        token = r.stdout.strip()
        assert token and "\n" not in token
        out.text = "printed the access token"

    with s.step("call") as out:
        r = s.cli("call", name, "tools/list", "--no-sign-in")
        assert r.returncode == 0, r.stderr + s.context()
        tools = json.loads(r.stdout)["tools"]
        assert tools
        out.text = "tools listed"  # no count: the mock gains tools, the table should not churn

    with s.step("refresh") as out:
        if first["has_refresh_token"]:
            r = s.cli("refresh", name)
            assert r.returncode == 0, r.stderr + s.context()
            r2 = s.cli("token", name, "--min-ttl", "0")
            assert r2.returncode == 0 and r2.stdout.strip() != token, "the refresh gave no new token"
            r3 = s.cli("call", name, "tools/list", "--no-sign-in")
            assert r3.returncode == 0, r3.stderr
            out.text = "new access token, accepted by the server"
        else:
            r = s.cli("refresh", name)
            assert r.returncode != 0
            assert "no refresh token" in r.stderr, r.stderr
            out.text = "not offered (the server issues no refresh token): user told"
            s.results.note(
                "Issues no refresh token: `mcp-auth refresh` says so (exit 3) and the access token "
                "is used until it expires; then a new sign-in is needed."
            )

    with s.step("relogin") as out:
        r = s.cli("login", name)
        lines = s.browser_lines()
        assert r.returncode == 0, r.stderr + s.context()
        assert _opens(lines) == 1, lines
        again = s.status()
        assert again["client_id"] == first["client_id"], "a second registration was made"
        assert again["redirect_uri"] == first["redirect_uri"], "another callback port was used"
        assert _landed_port(lines) == _port_of(first["redirect_uri"]), lines
        out.text = "same client, same callback port, 1 browser sign-in"

    with s.step("restart") as out:
        r = s.cli("token", name, "--min-ttl", "0")
        assert r.returncode == 0, r.stderr
        stale = r.stdout.strip()
        s.server.restart()
        answer = _probe(s.server.mcp_url, stale)
        assert answer != 200, "the restarted server still accepts the old token"
        if answer == 401:
            r = s.cli("call", name, "tools/list", "--sign-in")
            lines = s.browser_lines()
            assert r.returncode == 0, r.stderr + s.context()
            assert _opens(lines) <= 1, lines
            assert "registering this app again" in r.stderr, r.stderr
            after = s.status()
            assert after["client_id"] != first["client_id"]
            assert json.loads(r.stdout)["tools"]
            out.text = (
                f"stale token → 401, stale client → registered again by itself; "
                f"{_opens(lines)} browser sign-in; call succeeded"
            )
        else:
            started = time.monotonic()
            r = s.cli("call", name, "tools/list", "--sign-in")
            took = time.monotonic() - started
            lines = s.browser_lines()
            assert r.returncode != 0, r.stdout
            assert took < FAST_S, f"took {took:.0f} s"
            assert f"HTTP {answer}" in r.stderr, r.stderr
            assert f"mcp-auth login --re-register {name}" in r.stderr, r.stderr
            assert _opens(lines) == 0, lines
            r = s.cli("login", name, "--re-register")
            lines = s.browser_lines()
            assert r.returncode == 0, r.stderr + s.context()
            assert _opens(lines) == 1, lines
            after = s.status()
            assert after["client_id"] != first["client_id"]
            r = s.cli("call", name, "tools/list", "--no-sign-in")
            assert r.returncode == 0, r.stderr
            out.text = (
                f"stale token → HTTP {answer}: told at once (under {FAST_S:.0f} s) with "
                "`mcp-auth login --re-register`, which recovered with 1 browser sign-in"
            )
            s.results.note(
                f"Answers a token it no longer knows with HTTP {answer} instead of 401, so a "
                "client cannot tell a stale sign-in from a server fault: `mcp-auth` says what "
                "happened and names `mcp-auth login --re-register NAME`, and does not wait."
            )

    with s.step("revoke") as out:
        if s.status()["revocation_supported"]:
            r = s.cli("token", name, "--min-ttl", "0")
            current = r.stdout.strip()
            r = s.cli("revoke", name, "--json")
            assert r.returncode == 0, r.stderr + s.context()
            report = json.loads(r.stdout)
            assert report["supported"] and not report["errors"], report
            assert report["refresh_token_revoked"] or report["access_token_revoked"], report
            assert _probe(s.server.mcp_url, current) == 401, "the revoked token still works"
            r = s.cli("call", name, "tools/list", "--no-sign-in")
            assert r.returncode == 3, r.stderr
            out.text = "accepted; the server then refuses the token"
        else:
            r = s.cli("revoke", name)
            assert r.returncode == 0, r.stderr
            # The words of core/revocation_text.py: not supported, deleted here only.
            assert "Revocation is not supported by this server" in r.stdout, r.stdout
            assert "deleted here only" in r.stdout, r.stdout
            out.text = "not offered (no revocation endpoint): user told, tokens deleted here"
            s.results.note(
                "Offers no revocation endpoint: `mcp-auth revoke` says so and deletes the tokens "
                "locally; the server keeps them valid until they expire."
            )

    with s.step("remove") as out:
        r = s.cli("remove", name, "--json")
        assert r.returncode == 0, r.stderr
        r = s.cli("list", "--json")
        assert json.loads(r.stdout)["servers"] == []
        out.text = "removed, nothing left"
