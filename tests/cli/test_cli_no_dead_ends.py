"""No dead ends (issue 16): one passphrase policy, applied only when a vault is created; an
empty home lists nothing without a keyring. Real CLI processes, the real vault file."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

from mcp_auth_desktop.storage import FileVault, PassphraseKeyProvider
from mcp_auth_desktop.storage.paths import app_paths
from tests.cli.helpers import run_cli


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("MCP_AUTH_DESKTOP_PASSPHRASE",)}
    full.update(env)
    return run_cli(*args, env=full, stdin=subprocess.DEVNULL)


def test_list_on_an_empty_home_without_a_keyring_is_an_empty_list() -> None:
    # No D-Bus session: no Secret Service, no passphrase; nothing stored either.
    no_bus = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus", "MCP_AUTH_DESKTOP_KEYRING": "auto"}
    out = cli("list", **no_bus)
    assert out.returncode == 0, out.stderr
    assert "No servers yet" in out.stdout and out.stderr == ""
    as_json = cli("list", "--json", **no_bus)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["servers"] == []
    overview = cli("status", "--json", **no_bus)
    assert overview.returncode == 0 and json.loads(overview.stdout)["servers"] == []
    assert not app_paths().vault_file.exists()
    # With something stored, the vault is needed, and its absence is still an error.
    added = cli("add", "https://mcp.example.com/mcp", "--no-discover", **no_bus)
    assert added.returncode == 6 and "keyring" in added.stderr


def test_a_new_vault_needs_the_policy_length_and_nothing_is_created_otherwise() -> None:
    short = cli("add", "https://mcp.example.com/mcp", "--no-discover",
                MCP_AUTH_DESKTOP_KEYRING="passphrase", MCP_AUTH_DESKTOP_PASSPHRASE="abc")
    assert short.returncode == 6
    assert "Use at least 8 characters for a new passphrase. No vault was created" in short.stderr
    assert not app_paths().vault_file.exists()
    ok = cli("add", "https://mcp.example.com/mcp", "--no-discover",
             MCP_AUTH_DESKTOP_KEYRING="passphrase", MCP_AUTH_DESKTOP_PASSPHRASE="eight ch")
    assert ok.returncode == 0, ok.stderr
    assert app_paths().vault_file.exists()


def test_a_vault_made_with_a_short_passphrase_still_opens_with_it() -> None:
    # As an older build of the CLI made it (it accepted one character).
    paths = app_paths()
    paths.ensure()
    vault = FileVault(paths, PassphraseKeyProvider("x", n=2**10))
    vault.open_sync()
    asyncio.run(vault.put("probe", {"kept": True}))
    asyncio.run(vault.aclose())
    assert paths.vault_file.exists()
    out = cli("list", "--json", MCP_AUTH_DESKTOP_KEYRING="passphrase", MCP_AUTH_DESKTOP_PASSPHRASE="x")
    assert out.returncode == 0, out.stderr
    wrong = cli("list", MCP_AUTH_DESKTOP_KEYRING="passphrase", MCP_AUTH_DESKTOP_PASSPHRASE="y")
    assert wrong.returncode == 6


def test_two_local_servers_on_one_host_get_names_with_their_ports() -> None:
    env = {"MCP_AUTH_DESKTOP_KEYRING": "passphrase", "MCP_AUTH_DESKTOP_PASSPHRASE": "names test"}
    for port in (8001, 8002):
        out = cli("add", f"http://127.0.0.1:{port}/mcp", "--no-discover", "--allow-insecure-loopback", **env)
        assert out.returncode == 0, out.stderr
    listed = json.loads(cli("list", "--json", **env).stdout)
    assert [s["name"] for s in listed["servers"]] == ["127.0.0.1:8001", "127.0.0.1:8002"]
    # The name works wherever a server is named.
    assert cli("status", "127.0.0.1:8002", **env).returncode == 0
