"""Issue 15 #9: no child process inherits our secrets.

Real children dump their environment to a file: a ``BROWSER`` command started
by :class:`SystemBrowser`, the demo server started by :class:`DemoServer`, and
a child started by a library (``subprocess`` without ``env=``, as
``webbrowser`` and Qt do) after the entry points withheld the secrets. The
whole CLI path (``mcp-auth login`` with ``BROWSER``) is in
``tests/e2e/test_start_page.py``.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcp_auth_desktop.core.browser import SystemBrowser
from mcp_auth_desktop.core.childenv import SECRET_ENV_VARS, child_environment

CANARY = "CHILD-ENV-SECRET-CANARY"


def env_dumper(tmp_path: Path, *, print_url: bool = False) -> tuple[Path, Path]:
    """An executable that writes its environment as JSON (and optionally prints a URL)."""
    out = tmp_path / "child-env.json"
    script = tmp_path / "dump-env"
    body = f"import json, os, sys, time\nopen({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))\n"
    if print_url:
        body += "print('http://127.0.0.1:9/mcp', flush=True)\ntime.sleep(30)\n"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, out


def assert_no_secrets(env: dict[str, str]) -> None:
    assert not SECRET_ENV_VARS & {k.upper() for k in env}, sorted(env)
    assert not any(CANARY in v for v in env.values())
    assert env.get("PATH")  # the rest of the environment is passed on


def with_secrets(base: dict[str, str]) -> dict[str, str]:
    return {**base, **{name: f"{CANARY}-{name}" for name in SECRET_ENV_VARS}}


def test_the_secret_list_names_the_vault_passphrase() -> None:
    assert "MCP_AUTH_DESKTOP_PASSPHRASE" in SECRET_ENV_VARS
    env = with_secrets({"PATH": "/bin", "mcp_auth_desktop_passphrase": CANARY})
    assert child_environment(env) == {"PATH": "/bin"}


async def test_browser_command_gets_no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script, out = env_dumper(tmp_path)
    for name in SECRET_ENV_VARS:
        monkeypatch.setenv(name, f"{CANARY}-{name}")
    monkeypatch.setenv("BROWSER", str(script))
    await SystemBrowser(fallback=lambda url: False).open("https://as.example.com/authorize?x=1")
    assert_no_secrets(json.loads(out.read_text()))


async def test_browser_command_with_an_explicit_environment_gets_no_secrets(tmp_path: Path) -> None:
    import os

    script, out = env_dumper(tmp_path)
    env = with_secrets({**os.environ, "BROWSER": str(script)})
    await SystemBrowser(environ=env, fallback=lambda url: False).open("https://as.example.com/a")
    assert_no_secrets(json.loads(out.read_text()))


async def test_demo_server_child_gets_no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_auth_desktop.gui.demo import DemoServer

    script, out = env_dumper(tmp_path, print_url=True)
    for name in SECRET_ENV_VARS:
        monkeypatch.setenv(name, f"{CANARY}-{name}")
    demo = DemoServer([str(script)])
    try:
        assert await demo.start() == "http://127.0.0.1:9/mcp"
    finally:
        await demo.stop()
    assert_no_secrets(json.loads(out.read_text()))


def test_entry_point_withholds_secrets_from_children_a_library_starts(tmp_path: Path) -> None:
    """After withhold_secrets_from_children() (the CLI's and the app's first step), a
    child started without env= (webbrowser, QDesktopServices) inherits no secret,
    while our own code still reads the passphrase through secret_env()."""
    script, out = env_dumper(tmp_path)
    program = textwrap.dedent(
        f"""
        import os, subprocess, sys
        from mcp_auth_desktop.core.childenv import secret_env, withhold_secrets_from_children
        withhold_secrets_from_children()
        assert "MCP_AUTH_DESKTOP_PASSPHRASE" not in os.environ
        assert secret_env("MCP_AUTH_DESKTOP_PASSPHRASE") == "{CANARY}-MCP_AUTH_DESKTOP_PASSPHRASE"
        subprocess.run([{str(script)!r}], check=True)
        """
    )
    import os

    env = with_secrets(dict(os.environ))
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert_no_secrets(json.loads(out.read_text()))


def test_vault_opens_with_a_withheld_passphrase(tmp_path: Path) -> None:
    """The storage layer still finds MCP_AUTH_DESKTOP_PASSPHRASE after it left os.environ."""
    program = textwrap.dedent(
        f"""
        import asyncio, os
        from pathlib import Path
        from mcp_auth_desktop.core.childenv import withhold_secrets_from_children
        from mcp_auth_desktop.storage import open_storage
        withhold_secrets_from_children()
        async def main():
            vault, settings = open_storage(Path({str(tmp_path / "home")!r}), scrypt_n=2**10)
            await vault.aclose()
        asyncio.run(main())
        """
    )
    import os

    env = {**os.environ, "MCP_AUTH_DESKTOP_KEYRING": "passphrase", "MCP_AUTH_DESKTOP_PASSPHRASE": CANARY}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
