"""Start at login: an XDG autostart desktop entry (freedesktop Autostart spec).

The entry comes from the template ``autostart.desktop.in`` (bundled under
``resources/templates`` in the frozen app, in ``packaging/linux`` in a source
tree); a built-in copy of the same entry is the last resort.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp_auth_desktop.resources_path import resource_path

__all__ = ["autostart_path", "is_enabled", "enable", "disable", "desktop_entry"]

FILE_NAME = "mcp-auth-desktop.desktop"
#: The menu entry's id (``packaging/linux/io.github.mcp_auth_desktop.desktop``): the
#: icon name and, through QGuiApplication.setDesktopFileName, the Wayland app id.
DESKTOP_ID = "io.github.mcp_auth_desktop"
#: The template in a source tree; a frozen bundle has it at resources/templates/.
SOURCE_TEMPLATE = Path(__file__).resolve().parents[2] / "packaging" / "linux" / "autostart.desktop.in"


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


def _string_value(text: str) -> str:
    r"""A value of type string: the spec's general escapes, applied on top of any quoting.

    So a literal ``$`` in a quoted argument ends up as ``\\$`` in the file, as the
    spec says; a parser (GLib's) turns ``\\`` back into ``\`` before unquoting.
    """
    return (text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r"))


def default_command() -> list[str]:
    """How to start this very installation hidden in the tray."""
    cmd = [sys.executable, "--hidden"] if getattr(sys, "frozen", False) else [
        sys.executable, "-m", "mcp_auth_desktop", "--hidden"]
    home = os.environ.get("MCP_AUTH_DESKTOP_HOME")
    if home:
        # A separate profile: start the same one at login.
        cmd = ["env", f"MCP_AUTH_DESKTOP_HOME={home}", *cmd]
    return cmd


_BUILTIN_TEMPLATE = """[Desktop Entry]
Type=Application
Version=1.4
Name=MCP Auth Desktop
Comment=Keep MCP server sign-ins fresh from the system tray
Exec=@EXEC@
TryExec=@TRYEXEC@
Icon=@ICON@
Terminal=false
X-GNOME-Autostart-enabled=true
"""


def _template() -> str:
    """The packaged template: bundled when frozen, else from the source tree."""
    bundled = resource_path("templates", "autostart.desktop.in")
    # From source the packaging folder is the original; a bundle has only its copy.
    candidates = (bundled,) if getattr(sys, "frozen", False) else (SOURCE_TEMPLATE, bundled)
    for candidate in candidates:
        try:
            return candidate.read_text(encoding="utf-8")
        except OSError:
            continue
    return _BUILTIN_TEMPLATE


def _icon() -> str:
    # Our SVG by absolute path (the source tree, or the installed one-folder bundle);
    # the theme's icon name when the file is not there (a distribution package).
    svg = resource_path("icons", "app.svg")
    return str(svg) if svg.is_file() else DESKTOP_ID


def desktop_entry(command: Sequence[str] | None = None) -> str:
    """The entry text, from the packaged template."""
    cmd = list(command) if command else default_command()
    exec_line = " ".join(_quote_exec_arg(a) for a in cmd)
    program = cmd[0]
    if not os.path.isabs(program):
        program = shutil.which(program) or program
    # TryExec is a plain path, never quoted (quotes would become part of the name).
    return (_template().replace("@EXEC@", _string_value(exec_line))
            .replace("@TRYEXEC@", _string_value(program))
            .replace("@ICON@", _string_value(_icon())))


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
