"""The start-at-login entry: from the packaging template (source tree or frozen bundle) or
the built-in copy, valid for ``desktop-file-validate``, and read back by a desktop exactly as
the command that was meant, whatever the path contains."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from mcp_auth_desktop.gui import autostart
from mcp_auth_desktop.gui.app import make_qapplication

ROOT = Path(__file__).resolve().parents[2]
ODD = "/opt/My Apps/$HOME \"quoted\" back\\slash `tick` 100%/mcp"


def _validate(path: Path) -> None:
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True,
                            check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "error" not in out.lower(), out


def _fields(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _unescape_string(value: str) -> str:
    """The spec's general escapes for string values (what GLib's key file reader does)."""
    out, i = [], 0
    table = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    while i < len(value):
        c = value[i]
        if c == "\\":
            nxt = value[i + 1]
            assert nxt in table, f"invalid escape \\{nxt} in {value!r}"
            out.append(table[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parse_exec(value: str) -> list[str]:
    """Split an Exec value into arguments per the Desktop Entry spec's quoting rules."""
    text = _unescape_string(value)
    args: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        arg = []
        if text[i] == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\":
                    assert text[i + 1] in '"`$\\', text
                    i += 1
                arg.append(text[i])
                i += 1
            i += 1
        else:
            while i < len(text) and text[i] != " ":
                assert text[i] not in '"\'\\><~|&;$*?#()`', f"unquoted reserved {text[i]!r}"
                arg.append(text[i])
                i += 1
        args.append("".join(arg).replace("%%", "%"))
    return args


def test_an_odd_program_path_round_trips_and_validates(tmp_path: Path) -> None:
    command = [ODD, "--hidden"]
    path = autostart.enable(tmp_path, command)
    _validate(path)
    fields = _fields(path.read_text(encoding="utf-8"))
    assert _parse_exec(fields["Exec"]) == command
    assert fields["Exec"].endswith(" --hidden")
    # TryExec is the plain path (string escapes only, never quoted).
    assert _unescape_string(fields["TryExec"]) == ODD
    assert not fields["TryExec"].startswith('"')


def test_from_source_the_entry_comes_from_the_packaging_template(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCP_AUTH_DESKTOP_HOME", raising=False)  # the default profile
    text = autostart.desktop_entry(["/usr/bin/mcp-auth-desktop", "--hidden"])
    template = (ROOT / "packaging" / "linux" / "autostart.desktop.in").read_text(encoding="utf-8")
    for line in template.splitlines():
        if "@" not in line:
            assert line in text.splitlines()
    fields = _fields(text)
    assert fields["Icon"] == str(ROOT / "mcp_auth_desktop" / "resources" / "icons" / "app.svg")
    assert fields["TryExec"] == "/usr/bin/mcp-auth-desktop"
    # The default command starts this interpreter on this package, hidden in the tray.
    default = _parse_exec(_fields(autostart.desktop_entry())["Exec"])
    assert default == [sys.executable, "-m", "mcp_auth_desktop", "--hidden"]
    # A separate profile starts the same profile at login.
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(tmp_path / "my profile"))
    profile = _parse_exec(_fields(autostart.desktop_entry())["Exec"])
    assert profile == ["env", f"MCP_AUTH_DESKTOP_HOME={tmp_path / 'my profile'}", *default]


def test_frozen_the_entry_comes_from_the_bundle(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "bundle"
    templates = bundle / "resources" / "templates"
    templates.mkdir(parents=True)
    template = (ROOT / "packaging" / "linux" / "autostart.desktop.in").read_text(encoding="utf-8")
    (templates / "autostart.desktop.in").write_text(
        template.replace("Name=MCP Auth Desktop", "Name=MCP Auth Desktop (bundled)"),
        encoding="utf-8")
    program = bundle / "mcp-auth-desktop"
    monkeypatch.delenv("MCP_AUTH_DESKTOP_RESOURCES", raising=False)
    monkeypatch.delenv("MCP_AUTH_DESKTOP_HOME", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setattr(sys, "executable", str(program))
    path = autostart.enable(tmp_path / "config")
    fields = _fields(path.read_text(encoding="utf-8"))
    assert fields["Name"] == "MCP Auth Desktop (bundled)"
    assert _parse_exec(fields["Exec"]) == [str(program), "--hidden"]
    assert fields["TryExec"] == str(program)
    # No icon file in this bundle: the theme's icon name.
    assert fields["Icon"] == autostart.DESKTOP_ID
    _validate(path)


def test_the_built_in_entry_is_the_template_and_validates(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert autostart._BUILTIN_TEMPLATE == autostart.SOURCE_TEMPLATE.read_text(encoding="utf-8")
    monkeypatch.setattr(autostart, "SOURCE_TEMPLATE", tmp_path / "missing.desktop.in")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_RESOURCES", str(tmp_path / "no-resources"))
    path = autostart.enable(tmp_path / "config", ["/opt/My Apps/mcp", "--hidden"])
    text = path.read_text(encoding="utf-8")
    assert "@" not in text
    fields = _fields(text)
    assert fields["Icon"] == autostart.DESKTOP_ID
    assert _parse_exec(fields["Exec"]) == ["/opt/My Apps/mcp", "--hidden"]
    assert fields["TryExec"] == "/opt/My Apps/mcp"
    _validate(path)


def test_the_app_names_its_desktop_file(qapp: object) -> None:
    QGuiApplication.setDesktopFileName("")
    assert make_qapplication([]) is qapp
    assert QGuiApplication.desktopFileName() == "io.github.mcp_auth_desktop"
    assert (ROOT / "packaging" / "linux" / f"{autostart.DESKTOP_ID}.desktop").is_file()
