"""Issue 15 #11: two `mcp-auth login` processes for one server at once.

Both real processes share one home (one vault). The first prints its start page and
waits for the browser; the second must not open a second consent: it says that it
waits for the other process's sign-in, and when the first finishes it joins it. The
mock (auto-approve) then has issued exactly one code and one token, and the one
stored sign-in works.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
import urllib.request

from mcp_auth_desktop.core.loopback import is_start_page
from tests.cli.helpers import cli_env, run_cli, start_cli
from tests.mock.helpers import MockProcess


def env() -> dict[str, str]:
    return cli_env("concurrent login test")


def cli(*args: str) -> subprocess.Popen[str]:
    return start_cli(*args, env=env())


def lines_of(stream: object) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            q.put(line)
        q.put("")

    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_for(q: queue.Queue[str], seen: list[str], want: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if want in line:
            return line
        if line == "":
            break
    raise AssertionError(f"{want!r} not seen; got {seen!r}")


def test_two_logins_at_once_give_one_consent_and_one_stored_sign_in(mock: MockProcess) -> None:
    added = run_cli("add", mock.mcp_url, "--name", "m", "--allow-insecure-loopback", env=env())
    assert added.returncode == 0, added.stderr
    first = cli("login", "m", "--no-browser")
    second: subprocess.Popen[str] | None = None
    try:
        first_err: list[str] = []
        url = wait_for(lines_of(first.stderr), first_err, "http").strip()
        assert is_start_page(url)
        second = cli("login", "m", "--no-browser")
        second_err: list[str] = []
        q2 = lines_of(second.stderr)
        # The second process says what it waits for, and prints no sign-in link of its own.
        wait_for(q2, second_err, "waiting for that sign-in to finish")
        assert second.poll() is None
        assert not any(line.startswith("http") for line in second_err), second_err
        # The user completes the first sign-in in the browser.
        with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310 - loopback
            assert resp.status == 200
        out1, _ = first.communicate(timeout=60)
        out2, _ = second.communicate(timeout=60)
        while not q2.empty():
            second_err.append(q2.get())
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)
    assert first.returncode == 0 and "Signed in to m" in out1
    assert second.returncode == 0 and "Signed in to m" in out2, second_err
    assert not any(line.startswith("http") for line in second_err), second_err
    stats = mock.control()["stats"]
    assert stats["codes_issued"] == 1
    assert stats.get("token_requests:authorization_code", 0) == 1
    token = run_cli("token", "m", env=env())
    assert token.returncode == 0 and len(token.stdout.strip()) > 20
    # A refresh after the joined sign-in rotates once and nothing is lost.
    refreshed = run_cli("refresh", "m", env=env())
    assert refreshed.returncode == 0, refreshed.stderr
    assert mock.control()["stats"].get("token_requests:refresh_token", 0) == 1
