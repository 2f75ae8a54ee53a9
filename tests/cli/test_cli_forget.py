"""`mcp-auth forget-everything`: confirmation, then the vault, its key and every server are gone."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli.test_cli_offline import run


def _vault_file() -> Path:
    return Path(os.environ["MCP_AUTH_DESKTOP_HOME"]) / "vault.bin"


def test_forget_everything_needs_confirmation_then_deletes_everything() -> None:
    assert run("add", "https://one.example/mcp", "--name", "one", "--no-discover",
               "--client-id", "c1", "--client-secret-stdin", stdin="s3cret\n").returncode == 0
    assert run("add", "https://two.example/mcp", "--name", "two", "--no-discover").returncode == 0
    assert _vault_file().is_file()

    refused = run("forget-everything")  # stdin is not a terminal: no silent wipe
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert len(json.loads(run("list", "--json").stdout)["servers"]) == 2

    done = run("forget-everything", "--yes", "--no-revoke", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sorted(s["server"] for s in report["servers"]) == ["one", "two"]
    assert report["vault_deleted"] is True
    assert not _vault_file().exists()
    assert "s3cret" not in done.stdout + done.stderr
    assert json.loads(run("list", "--json").stdout)["servers"] == []
