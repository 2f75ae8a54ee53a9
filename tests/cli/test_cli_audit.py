"""`mcp-auth` leaves a secret-free audit trail of what it did."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli.test_cli_offline import run


def test_cli_actions_are_recorded_without_secrets() -> None:
    assert run("add", "https://one.example/mcp", "--name", "one", "--no-discover",
               "--client-id", "c1", "--client-secret-stdin", stdin="CANARY-s3cret\n").returncode == 0
    assert run("remove", "one").returncode == 0
    log = Path(os.environ["MCP_AUTH_DESKTOP_HOME"]) / "audit.log"
    text = log.read_text()
    events = [json.loads(line)["event"] for line in text.splitlines()]
    assert "ServerAdded" in events and "ServerRemoved" in events
    assert "CANARY" not in text
