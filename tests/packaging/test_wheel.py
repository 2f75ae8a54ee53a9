"""Builds the wheel, installs it into a fresh venv and runs the app's --self-test from there.

Proves what a source checkout hides: the icons and templates ship as package data
(``resources_path`` finds them inside the installed package), the mock server's own
pages ship with it, the mock server's dependencies are the ``mock`` extra and not
requirements of the app, and the installed app passes its self-test (under
scripts/headless.sh, from a folder outside the source tree). The fresh venv gets
the dependencies at the dev venv's exact versions (pip's cache serves them).
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from ._support import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

HEADLESS = ROOT / "scripts" / "headless.sh"
# Every top-level package pyproject.toml ships, read from it so a new one (netpolicy) is not missed.
PACKAGES = tuple(p.rstrip("*") for p in tomllib.loads(
    (ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]["include"])
SOURCE_PARTS = ("pyproject.toml", "README.md", *PACKAGES)


def _env() -> dict[str, str]:
    # Nothing may lead the installed app back to the source tree.
    drop = ("PYTHONPATH", "MCP_AUTH_DESKTOP_RESOURCES", "MCP_AUTH_DESKTOP_ICONS", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("_MCP_HEADLESS")}


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=_env(),
                            cwd=cwd, check=False)
    assert result.returncode == 0, f"{argv}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy so the build's egg-info/build folders never touch the work tree.
    src = tmp_path_factory.mktemp("src")
    for part in SOURCE_PARTS:
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, src / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / part, src / part)
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)], src)
    (built,) = out.glob("mcp_auth_desktop-*.whl")
    return built


def _fresh_venv(wheel: Path, home: Path, requirement: str) -> Path:
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], home)
    # The dev venv's versions, so the fresh one runs what the tests ran (and pip's cache has them).
    frozen = _run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], home).stdout
    constraints = home / "constraints.txt"
    constraints.write_text(frozen, encoding="utf-8")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], home)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints),
          requirement], home)
    return venv


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fresh_venv(wheel, tmp_path_factory.mktemp("fresh"), f"{wheel}[mock]")


def test_wheel_ships_resources_and_mock_pages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "mcp_auth_desktop/resources/icons/app.svg" in names
    assert "mcp_auth_desktop/resources/templates/callback.html" in names
    assert sum(n.startswith("mcp_auth_desktop/resources/icons/") for n in names) >= 19
    assert {"mock_server/templates/consent.html", "mock_server/templates/mock_error.html"} <= names
    assert {f"{package}/__init__.py" for package in PACKAGES} <= names


def test_mock_server_dependencies_are_an_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        (meta_name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(zf.read(meta_name))
    requires = meta.get_all("Requires-Dist") or []
    app = [r for r in requires if "extra ==" not in r]
    mock = [r for r in requires if 'extra == "mock"' in r]
    assert not [r for r in app if r.lower().startswith(("starlette", "uvicorn"))], app
    assert any(r.lower().startswith("starlette") for r in mock)
    assert any(r.lower().startswith("uvicorn") for r in mock)
    assert "mock" in (meta.get_all("Provides-Extra") or [])


def test_installed_app_finds_its_resources_inside_the_venv(venv: Path) -> None:
    probe = ("import mcp_auth_desktop, mcp_auth_desktop.resources_path as r; "
             "print(mcp_auth_desktop.__file__); print(r.resource_path('icons', 'app.svg'))")
    lines = _run([str(venv / "bin" / "python"), "-c", probe], venv).stdout.splitlines()
    package, svg = Path(lines[0]), Path(lines[1])
    assert package.is_relative_to(venv) and not package.is_relative_to(ROOT)
    assert svg.is_relative_to(venv) and svg.is_file()


def test_installed_app_passes_its_self_test(venv: Path) -> None:
    result = _run([str(HEADLESS), str(venv / "bin" / "mcp-auth-desktop"), "--self-test"], venv,
                  timeout=240)
    assert "self-test: passed" in result.stdout
    assert "self-test: mock server at http://127.0.0.1:" in result.stdout


def test_the_app_installs_and_runs_without_the_mock_extra(
        wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    venv = _fresh_venv(wheel, tmp_path_factory.mktemp("no-mock"), str(wheel))
    python = str(venv / "bin" / "python")
    for absent in ("starlette", "uvicorn"):
        probe = subprocess.run([python, "-c", f"import {absent}"], capture_output=True, text=True,
                               env=_env(), cwd=venv, check=False)
        assert probe.returncode != 0, f"{absent} was installed without the mock extra"
    usage = _run([str(venv / "bin" / "mcp-auth"), "--help"], venv)
    assert usage.stdout.startswith("usage: mcp-auth")
    assert "mcp-auth-desktop" in _run([str(venv / "bin" / "mcp-auth-desktop"), "--version"], venv).stdout
    # The self-test needs the mock server: it says which extra to install.
    selftest = subprocess.run([str(HEADLESS), str(venv / "bin" / "mcp-auth-desktop"), "--self-test"],
                              capture_output=True, text=True, env=_env(), cwd=venv, timeout=240,
                              check=False)
    assert selftest.returncode == 1
    assert "mcp-auth-desktop[mock]" in selftest.stderr

