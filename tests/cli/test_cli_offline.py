"""`mcp-auth` as a real process on a real (passphrase) vault, without any server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mcp_auth_desktop.cli.main import EXIT_CODES, exit_code_for
from mcp_auth_desktop.core import errors
from tests.cli.helpers import ROOT, cli_env, run_cli


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = cli_env("correct horse battery staple", browser=None)
    return run_cli(*args, env=env, input=stdin or "")


def test_help_documents_every_exit_code():
    out = run("--help")
    assert out.returncode == 0
    for code, text in EXIT_CODES.items():
        assert f"{code:<4} {text}" in out.stdout
    doc = (ROOT / "docs" / "CLI.md").read_text()
    for code in EXIT_CODES:
        assert f"| {code} |" in doc


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("token").returncode == 2
    assert run("frobnicate").returncode == 2


def test_add_list_status_rename_remove_without_network():
    out = run(
        "add",
        "https://mcp.example/mcp",
        "--name",
        "ex",
        "--client-id",
        "pre-client",
        "--client-secret-stdin",
        "--scope",
        "read write",
        "--no-discover",
        "--json",
        stdin="s3cret-from-stdin\n",
    )
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["name"] == "ex" and view["state"] == "new"
    assert view["requested_scopes"] == ["read", "write"]

    listing = run("list", "--json")
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    assert [s["name"] for s in data["servers"]] == ["ex"]
    assert "passphrase" in data["storage"] and "vault" in data["storage"]
    text = run("list")
    assert "ex" in text.stdout and "Secrets: encrypted vault" in text.stdout

    status = run("status", "https://mcp.example/mcp", "--json")
    assert status.returncode == 0
    assert json.loads(status.stdout)["client_id"] == "pre-client"
    assert "Secrets:" in run("status", "ex").stdout
    # The client secret went to the encrypted vault, not to any readable file.
    home = Path(os.environ["MCP_AUTH_DESKTOP_HOME"])
    for f in home.rglob("*"):
        if f.is_file():
            assert b"s3cret-from-stdin" not in f.read_bytes(), f

    assert run("rename", "ex", "renamed").returncode == 0
    assert run("status", "ex").returncode == 4
    removed = run("remove", "renamed", "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["supported"] is False
    assert json.loads(run("list", "--json").stdout)["servers"] == []


def test_not_found_and_not_signed_in_codes():
    assert run("token", "nothing").returncode == 4
    assert run("add", "https://mcp.example/mcp", "--name", "x", "--no-discover").returncode == 0
    out = run("token", "x")
    assert out.returncode == 3
    assert out.stdout == ""  # nothing on stdout for scripts to mistake for a token
    assert "mcp-auth login x" in out.stderr
    assert run("add", "https://mcp.example/mcp", "--no-discover").returncode == 2  # duplicate
    assert run("add", "http://mcp.example/mcp").returncode == 2  # plain http refused


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.SignInRequiredError("x"), 3),
        (errors.InvalidGrantError("invalid_grant"), 3),
        (errors.AuthorizationTimeout("x"), 3),
        (errors.ServerNotFoundError("x"), 4),
        (errors.NetworkError("x"), 5),
        (errors.TemporarilyUnavailableError("server_error", status=503), 5),
        (errors.VaultLockedError("x"), 6),
        (errors.ConfigurationError("x"), 2),
        (errors.ProtocolError("x"), 1),
    ],
)
def test_exit_code_mapping(exc, code):
    assert exit_code_for(exc) == code
