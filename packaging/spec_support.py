"""Build-time helpers for ``mcp-auth-desktop.spec``, kept importable for tests.

Nothing here runs in the frozen app. The spec imports this module by path.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import plistlib
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
RESOURCES = ROOT / "resources"
APP_SVG = RESOURCES / "icons" / "app.svg"
INFO_PLIST = PACKAGING / "macos" / "Info.plist"
VERSION_TEMPLATE = PACKAGING / "windows" / "version_info.txt.in"

GUI_NAME = "mcp-auth-desktop"
CLI_NAME = "mcp-auth"
MAC_APP_NAME = "MCP Auth Desktop.app"
# Apple bundle identifiers allow letters, digits, '-' and '.', not '_', so this
# differs from the freedesktop id io.github.mcp_auth_desktop.
MAC_BUNDLE_ID = "io.github.mcp-auth-desktop"

QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtSvg", "QtNetwork")
# Imported nowhere in the app, but excluded explicitly so that a stray import in
# a dependency cannot drag a second Qt binding or a test tool into the bundle.
OTHER_EXCLUDES = (
    "PyQt5",
    "PyQt6",
    "PySide2",
    "tkinter",
    "_tkinter",
    "IPython",
    "pytest",
    "_pytest",
    "hypothesis",
    "playwright",
    "mypy",
    "pytestqt",
)
# Qt plugins the app never loads: the image formats other than SVG/ICO (PNG is
# built into QtGui), and the PDF format that would pull in QtPdf.
UNUSED_QT_PLUGINS = (
    "imageformats/libqgif",
    "imageformats/libqicns",
    "imageformats/libqjpeg",
    "imageformats/libqpdf",
    "imageformats/libqtga",
    "imageformats/libqtiff",
    "imageformats/libqwbmp",
    "imageformats/libqwebp",
    "imageformats/qgif",
    "imageformats/qicns",
    "imageformats/qjpeg",
    "imageformats/qpdf",
    "imageformats/qtga",
    "imageformats/qtiff",
    "imageformats/qwbmp",
    "imageformats/qwebp",
)


def read_version(root: Path = ROOT) -> str:
    """``__version__`` from the package source, without importing the package."""
    text = (root / "mcp_auth_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if not match:
        raise ValueError("mcp_auth_desktop/__init__.py has no __version__ = \"...\" line")
    return match.group(1)


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """Four numbers for the Windows version resource: 1.2.3rc1 -> (1, 2, 3, 0)."""
    numbers = [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3]]
    numbers += [0] * (4 - len(numbers))
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def render_version_info(version: str, exe_name: str, out: Path) -> Path:
    """The Windows version resource text for one executable, written to ``out``."""
    text = VERSION_TEMPLATE.read_text(encoding="utf-8")
    text = (
        text.replace("@VERSION_TUPLE@", repr(version_tuple(version)))
        .replace("@VERSION@", version)
        .replace("@EXE_NAME@", exe_name)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def mac_info_plist(version: str) -> dict[str, Any]:
    """The keys for BUNDLE(info_plist=...), from macos/Info.plist plus the version."""
    with INFO_PLIST.open("rb") as fh:
        info: dict[str, Any] = plistlib.load(fh)
    info["CFBundleShortVersionString"] = version
    info["CFBundleVersion"] = version
    return info


def qt_excludes() -> list[str]:
    """Every PySide6 module except the ones the app uses."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("PySide6 is not installed in the build environment")
    names = {m.name for m in pkgutil.iter_modules(spec.submodule_search_locations)}
    return sorted(
        f"PySide6.{name}" for name in names if name.startswith("Qt") and name not in QT_MODULES
    )


def excludes() -> list[str]:
    return [*qt_excludes(), *OTHER_EXCLUDES]


def _posix(path: str) -> str:
    return path.replace("\\", "/")


def is_unused_qt_file(dest: str) -> bool:
    """True for a bundled file under a Qt plugin folder that the app never loads."""
    dest = _posix(dest)
    if "/plugins/" not in dest:
        return False
    tail = dest.split("/plugins/", 1)[1]
    return any(tail.startswith(prefix + ".") for prefix in UNUSED_QT_PLUGINS)


def drop_unused_qt(toc: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """A TOC without the unused Qt plugins."""
    return [entry for entry in toc if not is_unused_qt_file(entry[0])]


def make_icons(out_dir: Path) -> dict[str, Path]:
    """Render the platform icons from resources/icons/app.svg (in a child process,
    so Qt never starts inside PyInstaller)."""
    subprocess.run(  # noqa: S603 - fixed argv, our own script
        [sys.executable, str(PACKAGING / "make_icons.py"), "--svg", str(APP_SVG), "--out", str(out_dir)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return {"ico": out_dir / "app.ico", "icns": out_dir / "app.icns", "png": out_dir / "app-256.png"}
