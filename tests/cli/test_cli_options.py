"""CLI input errors name the flag at fault and suggest what was meant; `login` never ignores
an option on an existing server, and `edit` changes one (issue 16). Real CLI processes; the
sign-in against the mock server process."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from tests.cli.helpers import approve_sign_in, cli_env, run_cli, start_cli
from tests.mock.helpers import MockProcess


def env() -> dict[str, str]:
    return cli_env("cli options test")  # read at each run: every test has its own home


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env(), stdin=subprocess.DEVNULL)


def test_did_you_mean_a_command_an_option_and_a_server() -> None:
    out = cli("lst")
    assert out.returncode == 2 and "mcp-auth: did you mean 'list'?" in out.stderr
    out = cli("add", "https://mcp.example.com/mcp", "--nme", "x")
    assert out.returncode == 2 and "--nme: did you mean --name?" in out.stderr
    assert cli("add", "https://mcp.example.com/mcp", "--no-discover").returncode == 0
    out = cli("status", "mcp.exampel.com")
    assert out.returncode == 4
    assert "No server named 'mcp.exampel.com'" in out.stderr and "Did you mean 'mcp.example.com'?" in out.stderr
    out = cli("status", "zzzz")  # nothing close: no guess
    assert out.returncode == 4 and "Did you mean" not in out.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--callback-port", "70000"], "--callback-port must be a port number from 1 to 65535, not 70000"),
        (["--scope", 'read"all'], "--scope: 'read\"all' is not a scope"),
        (["--resource", "not a url"], "--resource must be an absolute http(s) URL"),
        (["--auth-param", "state=x"], "--auth-param cannot set 'state'"),
        (["--client-auth-method", "none"], "--client-auth-method applies to a pre-registered client"),
        (["--client-id", "c", "--client-auth-method", "client_secret_post"],
         "--client-auth-method client_secret_post needs the secret: add --client-secret-stdin"),
    ],
)
def test_add_names_the_flag_at_fault_and_stores_nothing(flags: list[str], message: str) -> None:
    out = cli("add", "https://mcp.example.com/mcp", "--no-discover", *flags)
    assert out.returncode == 2, out.stderr
    assert f"mcp-auth: error: {message}" in out.stderr
    listed = cli("list", "--json")
    assert json.loads(listed.stdout)["servers"] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_login_refuses_options_it_would_ignore_and_edit_applies_them(mock: MockProcess) -> None:
    assert cli("add", mock.mcp_url, "--name", "m", "--allow-insecure-loopback").returncode == 0
    port = _free_port()
    out = cli("login", "m", "--callback-port", str(port), "--name", "other", "--no-browser")
    assert out.returncode == 2
    assert f"--callback-port: differs from this server's setting; change it with `mcp-auth edit m --callback-port {port}`" in out.stderr
    assert "--name 'other': this server is named 'm'; rename it with `mcp-auth rename m other`" in out.stderr
    assert json.loads(cli("status", "m", "--json").stdout)["state"] == "needs_sign_in"  # nothing started
    edit = cli("edit", "m", "--callback-port", str(port), "--json")
    assert edit.returncode == 0, edit.stderr
    assert json.loads(edit.stdout) == {"server": "m", "changed": True, "options": {
        "resource": "(the server URL)", "callback_port": port, "auth_params": [],
        "allow_insecure_loopback": True}, "scopes": [], "client_id": None,
        "client_auth_method": None, "what_changed": ["callback port"], "sign_in_again": False}
    # Now the same option agrees with the server, and the sign-in uses it.
    proc = start_cli("login", "m", "--no-browser", "--callback-port", str(port), env=env(),
                     stdin=subprocess.DEVNULL)
    url, done = approve_sign_in(proc)
    assert url and f"127.0.0.1:{port}/" in url
    assert done.returncode == 0, done.stderr
    view = json.loads(cli("status", "m", "--json").stdout)
    assert view["state"] == "signed_in" and view["redirect_uri"].startswith(f"http://127.0.0.1:{port}/")


def test_edit_scopes_and_client_with_the_window_s_rules(mock: MockProcess) -> None:
    """`edit` changes the scopes and the pre-registered client under the rules of the GUI's
    edit dialog (core/server_edit.py): refusals in words, what saving means, and the next
    sign-in asks for exactly the edited scopes."""
    assert cli("add", mock.mcp_url, "--name", "m", "--allow-insecure-loopback").returncode == 0
    proc = start_cli("login", "m", "--no-browser", env=env(), stdin=subprocess.DEVNULL)
    _url, done = approve_sign_in(proc)
    assert done.returncode == 0, done.stderr
    first = json.loads(cli("status", "m", "--json").stdout)
    assert "mcp:write" in first["granted_scopes"]

    # Refused, naming what is wrong; nothing is stored.
    out = cli("edit", "m", "--client-id", "my-client", "--client-auth-method", "client_secret_post")
    assert out.returncode != 0 and "needs the client's secret" in out.stderr, out.stderr
    assert json.loads(cli("edit", "m", "--json").stdout)["client_id"] is None

    out = cli("edit", "m", "--scope", "mcp:read", "--json")
    assert out.returncode == 0, out.stderr
    saved = json.loads(out.stdout)
    assert saved["scopes"] == ["mcp:read"] and saved["what_changed"] == ["scopes"]
    assert saved["sign_in_again"] is True  # the current sign-in was made with the old scopes
    text = cli("edit", "m", "--default-scopes")
    assert "sign in again to use the new settings" in text.stdout and "mcp-auth login m" in text.stdout
    assert cli("edit", "m", "--scope", "mcp:read").returncode == 0

    proc = start_cli("login", "m", "--no-browser", env=env(), stdin=subprocess.DEVNULL)
    _url, done = approve_sign_in(proc)
    assert done.returncode == 0, done.stderr
    view = json.loads(cli("status", "m", "--json").stdout)
    assert view["granted_scopes"] == ["mcp:read", "offline_access"], view

    # A pre-registered client with its secret from stdin: saved, never printed.
    out = run_cli("edit", "m", "--client-id", "my-client", "--client-secret-stdin", "--json",
                  env=env(), input="edit-secret-value\n")
    assert out.returncode == 0, out.stderr
    saved = json.loads(out.stdout)
    assert (saved["client_id"], saved["client_auth_method"]) == ("my-client", "client_secret_basic")
    assert "client secret" in saved["what_changed"] and saved["sign_in_again"] is True
    assert "edit-secret-value" not in out.stdout + out.stderr
