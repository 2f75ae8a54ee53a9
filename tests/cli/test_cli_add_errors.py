"""`mcp-auth add` on a server that cannot be used: the cause on stderr, its exit code, nothing stored.

Real processes against real loopback servers (:mod:`tests.hostile_server`).
Each add must fail within :data:`BOUND` seconds (process start included),
print the cause with the host, exit with the code docs/CLI.md gives for it,
and leave no server behind (``mcp-auth list --json`` is empty).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from mcp_auth_desktop.cli.main import EXIT_ERROR, EXIT_TRANSIENT
from tests.cli.test_cli_offline import run
from tests.hostile_server import HostileServer

BOUND = 8.0


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def _add_fails(url: str, code: int, *words: str) -> str:
    started = time.monotonic()
    out = run("add", url, "--allow-insecure-loopback")
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"took {elapsed:.1f} s"
    assert out.returncode == code, (out.returncode, out.stderr)
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[0].startswith("mcp-auth: not added: "), out.stderr
    for word in words:
        assert word in lines[0], out.stderr
    assert "no authorization server metadata" not in out.stderr
    assert "nothing was stored" in out.stderr
    assert f"mcp-auth add --no-discover {url}" in out.stderr
    listing = run("list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout)["servers"] == []  # nothing half-added
    return out.stderr


def test_dns_failure(hostile: HostileServer) -> None:
    _add_fails(
        "https://mcp.nothing.invalid/mcp", EXIT_TRANSIENT,
        "The host name mcp.nothing.invalid could not be resolved (DNS lookup failed)",
    )


def test_connection_refused(hostile: HostileServer) -> None:
    port = hostile.refused_port
    _add_fails(
        f"http://127.0.0.1:{port}/mcp", EXIT_TRANSIENT,
        f"Connection refused by 127.0.0.1:{port}: nothing is listening there",
    )


def test_tls_error(hostile: HostileServer) -> None:
    url = hostile.tls_url.replace("/prm", "/mcp")
    _add_fails(url, EXIT_ERROR, "could not be verified (self-signed certificate)", "127.0.0.1")


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("bomb", "a compression bomb"),
        ("endless", "too large or endless"),
        ("loop", "Redirect loop:"),
        ("deep", "nested more than 64 levels"),
    ],
)
def test_unusable_metadata(hostile: HostileServer, case: str, words: str) -> None:
    _add_fails(hostile.mcp_url(case, header=False), EXIT_ERROR, words, "127.0.0.1")


def test_no_discover_keeps_it_for_later(hostile: HostileServer) -> None:
    url = f"http://127.0.0.1:{hostile.refused_port}/mcp"
    out = run("add", url, "--allow-insecure-loopback", "--no-discover", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["state"] == "new"
    # Signing in later names the same cause, and the server stays as it was.
    login = run("login", json.loads(out.stdout)["name"], "--no-browser")
    assert login.returncode == EXIT_TRANSIENT, login.stderr
    assert f"Connection refused by 127.0.0.1:{hostile.refused_port}" in login.stderr
    assert len(json.loads(run("list", "--json").stdout)["servers"]) == 1


def test_failing_server_is_not_taken_for_an_old_one(hostile: HostileServer) -> None:
    """A 503 at the metadata URL: named, transient, and no 2025-03-26 guessing at the origin."""
    _add_fails(hostile.mcp_url("down", header=False), EXIT_TRANSIENT,
               "answered HTTP 503 (a server error); try again later")
