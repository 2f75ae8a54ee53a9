"""What the CLI tests share: `mcp-auth` as a real process on a passphrase vault (no
keyring), and the sign-in link a `--no-browser` command prints on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["MCP_AUTH", "ROOT", "approve_sign_in", "cli_env", "run_cli", "sign_in_link", "start_cli"]

ROOT = Path(__file__).resolve().parents[2]
#: The full command (not the lean `token` path of the console script).
MCP_AUTH = (sys.executable, "-m", "mcp_auth_desktop.cli.main")


def cli_env(passphrase: str, *, browser: str | None = "false") -> dict[str, str]:
    """This process's environment with a passphrase vault; ``BROWSER`` (``false``: must not be
    used, e.g. with ``--no-browser``) unless ``browser`` is None."""
    env = {**os.environ, "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
           "MCP_AUTH_DESKTOP_PASSPHRASE": passphrase}
    if browser is not None:
        env["BROWSER"] = browser
    return env


def run_cli(*args: str, env: Mapping[str, str], timeout: float = 60,
            **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `mcp-auth ARGS` to the end; its output captured as text."""
    return subprocess.run([*MCP_AUTH, *args], capture_output=True, text=True, env=dict(env),
                          cwd=ROOT, timeout=timeout, **kwargs)


def start_cli(*args: str, env: Mapping[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    """Start `mcp-auth ARGS` with stdout and stderr piped, as text."""
    return subprocess.Popen([*MCP_AUTH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(env), cwd=ROOT, **kwargs)


def sign_in_link(stderr: IO[str], seen: list[str] | None = None, *, lines: int = 50) -> str | None:
    """The first line starting with ``http`` that the process prints on stderr, reading at
    most ``lines`` lines (each kept in ``seen`` when given); None at the end of its output."""
    for _ in range(lines):
        line = stderr.readline()
        if not line:
            return None
        if seen is not None:
            seen.append(line)
        if line.startswith("http"):
            return line.strip()
    return None


def approve_sign_in(proc: subprocess.Popen[str], *,
                    timeout: float = 30) -> tuple[str | None, subprocess.CompletedProcess[str]]:
    """Open the sign-in link ``proc`` prints, as the user would (the mock approves by itself),
    and wait for the process to end (killed if anything fails). Returns the link (None when
    none was printed) and the outcome, whose stderr includes the lines read before the link."""
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        url = sign_in_link(proc.stderr, seen)
        if url is not None:
            with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310 - loopback
                assert resp.status == 200
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    return url, subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(seen) + err)
