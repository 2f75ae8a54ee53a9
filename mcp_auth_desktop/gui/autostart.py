"""Start at login: an XDG autostart desktop entry (freedesktop Autostart spec).

The packaging step may ship a richer template later; this writes a minimal,
valid entry that starts the app hidden in the tray.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp_auth_desktop.resources_path import resource_path

__all__ = ["autostart_path", "is_enabled", "enable", "disable", "desktop_entry"]

FILE_NAME = "mcp-auth-desktop.desktop"


def autostart_path(config_home: str | os.PathLike[str] | None = None) -> Path:
    base = config_home or os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "autostart" / FILE_NAME


def _quote_exec_arg(arg: str) -> str:
    # Desktop Entry spec: reserved characters need a double-quoted argument in
    # which " ` $ and \ are backslash-escaped; % is doubled in any case.
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def default_command() -> list[str]:
    """How to start this very installation hidden in the tray."""
    cmd = [sys.executable, "--hidden"] if getattr(sys, "frozen", False) else [
        sys.executable, "-m", "mcp_auth_desktop", "--hidden"]
    home = os.environ.get("MCP_AUTH_DESKTOP_HOME")
    if home:
        # A separate profile: start the same one at login.
        cmd = ["env", f"MCP_AUTH_DESKTOP_HOME={home}", *cmd]
    return cmd


def desktop_entry(command: Sequence[str] | None = None) -> str:
    """The entry text: the packaged template when there is one, else a minimal entry."""
    cmd = list(command) if command else default_command()
    exec_line = " ".join(_quote_exec_arg(a) for a in cmd)
    template = resource_path("templates", "autostart.desktop.in")
    if template.is_file():
        text = template.read_text(encoding="utf-8")
        return (text.replace("@EXEC@", exec_line)
                .replace("@TRYEXEC@", _quote_exec_arg(cmd[0]))
                .replace("@ICON@", "io.github.mcp_auth_desktop"))
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.5",
            "Name=MCP Auth Desktop",
            "Comment=Keeps your MCP server sign-ins fresh",
            "Exec=" + exec_line,
            "Icon=io.github.mcp_auth_desktop",
            "Terminal=false",
            "Categories=Utility;Security;",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def is_enabled(config_home: str | os.PathLike[str] | None = None) -> bool:
    return autostart_path(config_home).is_file()


def enable(config_home: str | os.PathLike[str] | None = None,
           command: Sequence[str] | None = None) -> Path:
    path = autostart_path(config_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(desktop_entry(command), encoding="utf-8")
    os.replace(tmp, path)
    return path


def disable(config_home: str | os.PathLike[str] | None = None) -> None:
    autostart_path(config_home).unlink(missing_ok=True)


def command_line(argv: Sequence[str]) -> str:
    """For messages: the command as a shell would show it."""
    return shlex.join(argv)
