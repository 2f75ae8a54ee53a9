"""Builds the PyInstaller bundle and runs it (slow: about a minute on 2 cores).

The build goes to a temporary dist/work folder, so it never races a
``make package`` in the work tree. The GUI runs under scripts/headless.sh
(Xvfb, D-Bus, gnome-keyring, a tray), as ``make test-package`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mcp_auth_desktop

from ._support import ROOT, spec_support

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

HEADLESS = ROOT / "scripts" / "headless.sh"
PYINSTALLER = Path(sys.executable).with_name("pyinstaller")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    result = subprocess.run(
        [str(PYINSTALLER), "--noconfirm", "--log-level", "WARN",
         "--distpath", str(out / "dist"), "--workpath", str(out / "build"),
         str(ROOT / "packaging" / "mcp-auth-desktop.spec")],
        capture_output=True, text=True, timeout=800, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    print(f"\nPyInstaller build: {time.monotonic() - started:.0f} s")
    folder = out / "dist" / spec_support.GUI_NAME
    assert (folder / spec_support.GUI_NAME).is_file()
    return folder


def _run(argv: list[str], *, headless: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_MCP_HEADLESS")}
    # Make the bundle prove it finds its own resources, not the source tree's.
    env.pop("MCP_AUTH_DESKTOP_RESOURCES", None)
    env.pop("MCP_AUTH_DESKTOP_ICONS", None)
    command = [str(HEADLESS), *argv] if headless else argv
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd="/")


def test_gui_bundle_check_under_a_desktop_session(bundle: Path) -> None:
    result = _run([str(bundle / spec_support.GUI_NAME), "--check-bundle"], headless=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{mcp_auth_desktop.__version__} (frozen)" in result.stdout
    assert f"under {bundle / '_internal' / 'resources'}" in result.stdout
    assert "active: keyring.backends.SecretService.Keyring" in result.stdout
    assert "platform xcb, tray available: True" in result.stdout


def test_cli_bundle_check_and_help(bundle: Path) -> None:
    cli = bundle / spec_support.CLI_NAME
    check = _run([str(cli), "--check-bundle"])
    assert check.returncode == 0, check.stdout + check.stderr
    usage = _run([str(cli), "--help"])
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("usage: mcp-auth")


def test_bundle_holds_only_the_chosen_qt(bundle: Path) -> None:
    internal = bundle / "_internal"
    qt_modules = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.so")}
    assert qt_modules == set(spec_support.QT_MODULES)
    assert not list(internal.rglob("libgtk-3*")), "the GTK3 platform theme's libraries were bundled"
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
    assert not list(internal.rglob("pygments"))
    dangling = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling


@pytest.fixture
def demo_server(bundle: Path) -> Iterator[str]:
    # What --demo starts: "<sys.executable> -m mock_server --port 0", frozen.
    with subprocess.Popen(
        [str(bundle / spec_support.GUI_NAME), "-m", "mock_server", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            yield proc.stdout.readline().strip()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def test_frozen_app_runs_the_mock_server_module(demo_server: str) -> None:
    assert demo_server.startswith("http://127.0.0.1:") and demo_server.endswith("/mcp")
    base = demo_server.removesuffix("/mcp")
    prm = httpx.get(f"{base}/.well-known/oauth-protected-resource/mcp", timeout=10)
    assert prm.status_code == 200
    assert prm.json()["resource"] == demo_server
    unauthorized = httpx.post(demo_server, json={}, timeout=10)
    assert unauthorized.status_code == 401
    assert unauthorized.headers["www-authenticate"].lower().startswith("bearer")


def test_self_test_passes_in_the_frozen_app(bundle: Path) -> None:
    result = _run([str(bundle / spec_support.GUI_NAME), "--self-test"], headless=True, timeout=240)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_frozen_app_runs_its_own_module_like_an_autostart_entry_from_source(bundle: Path) -> None:
    # gui/autostart.py writes "<sys.executable> -m mcp_auth_desktop --hidden";
    # frozen, sys.executable is the app itself.
    result = _run([str(bundle / spec_support.GUI_NAME), "-m", "mcp_auth_desktop", "--help"])
    assert result.returncode == 0, result.stderr
    assert "--hidden" in result.stdout
    refused = _run([str(bundle / spec_support.GUI_NAME), "-m", "os"])
    assert refused.returncode == 2  # only the app's own modules run this way
