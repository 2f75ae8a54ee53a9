"""Canary: a full flow at DEBUG logging never shows a secret in logs, events or output."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.storage import open_storage
from tests.manager.test_with_mock_server import PASSPHRASE
from tests.start_page import HeadlessApprover

ROOT = Path(__file__).resolve().parents[2]


def _json_files(home: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in home.rglob("*.json") if p.is_file())


async def test_no_secret_in_debug_logs_events_or_output(
    mock,
    caplog,
    capfd,
    monkeypatch: pytest.MonkeyPatch,  # noqa: F811
):
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", PASSPHRASE)
    home = Path(os.environ["MCP_AUTH_DESKTOP_HOME"])
    caplog.set_level(logging.DEBUG)
    vault, settings = open_storage(home)
    http = make_http_client()
    events: list[object] = []
    secrets: set[str] = set()
    m = TokenManager(http=http, vault=vault, settings=settings, browser=HeadlessApprover())
    m.subscribe(events.append)

    async def harvest() -> None:
        for name in await vault.names():
            entry = await vault.get(name) or {}
            for field in (
                "access_token",
                "refresh_token",
                "registration_access_token",
                "client_secret",
            ):
                value = entry.get(field)
                if isinstance(value, str) and len(value) >= 8:
                    secrets.add(value)

    try:
        await m.start(background=False)
        await m.add_server(
            mock.mcp_url, name="canary", options=ServerOptions(allow_insecure_loopback=True)
        )
        await m.sign_in("canary")
        await harvest()
        secrets.add(await m.get_token("canary"))
        await m.refresh("canary")
        await harvest()
        await m.call("canary", "tools/list")
        await harvest()
        # The CLI, verbose, prints the token on stdout only, and nowhere else.
        env = {**os.environ}
        cli = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "mcp_auth_desktop.cli.main", "-v", "token", "canary"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        printed = cli.stdout.strip()
        assert printed in secrets
        status = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "mcp_auth_desktop.cli.main", "-v", "status", "canary", "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        await m.revoke("canary")
        await m.remove("canary")
    finally:
        await m.aclose()
        await http.aclose()
        await vault.aclose()

    assert len(secrets) >= 5  # access + refresh tokens (two generations) + registration token
    out, err = capfd.readouterr()
    haystacks = {
        "logs": caplog.text,
        "events": repr(events),
        "views": repr(m.servers()),
        "cli stderr": cli.stderr + status.stderr,
        "status output": status.stdout,
        "captured output": out + err,
        "settings file": await asyncio.to_thread(_json_files, home),
    }
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG really was on
