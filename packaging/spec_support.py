"""Build-time helpers for ``mcp-auth-desktop.spec``, kept importable for tests.

Nothing here runs in the frozen app. The spec imports this module by path.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import plistlib
import posixpath
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import Any

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
RESOURCES = ROOT / "mcp_auth_desktop" / "resources"  # package data; the bundle copies it to resources/
APP_SVG = RESOURCES / "icons" / "app.svg"
INFO_PLIST = PACKAGING / "macos" / "Info.plist"
VERSION_TEMPLATE = PACKAGING / "windows" / "version_info.txt.in"
AUTOSTART_TEMPLATE = PACKAGING / "linux" / "autostart.desktop.in"

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
    # httpx's own command-line tool, which alone pulls in pygments (~4 MB).
    "httpx._main",
    "pygments",
)
# The command line needs neither Qt nor the mock server.
CLI_EXCLUDES = (
    "PySide6",
    "shiboken6",
    "qasync",
    "mcp_auth_desktop.gui",
    "mock_server",
    "uvicorn",
    "starlette",
)
# Qt plugins the app never loads, as "<folder>/<name>" without "lib" prefix and
# file extension so one list serves Linux, Windows and macOS: image formats other
# than SVG/ICO (PNG is built into QtGui; qpdf would pull in QtPdf), the embedded
# and remote-display platforms, and the GTK3 theme, whose dependency on the build
# machine's GTK would otherwise be bundled (about 20 MB that may clash with the
# user's GTK). Qt then uses the xdg-desktop-portal theme on Linux desktops.
UNUSED_QT_PLUGINS = frozenset(
    {
        "imageformats/qgif",
        "imageformats/qicns",
        "imageformats/qjpeg",
        "imageformats/qpdf",
        "imageformats/qtga",
        "imageformats/qtiff",
        "imageformats/qwbmp",
        "imageformats/qwebp",
        "platforms/qeglfs",
        "platforms/qminimalegl",
        "platforms/qlinuxfb",
        "platforms/qvnc",
        "platforms/qvkkhrdisplay",
        "platformthemes/qgtk3",
    }
)
UNUSED_QT_PLUGIN_DIRS = frozenset({"egldeviceintegrations", "generic"})


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
    """True for a bundled Qt plugin the app never loads, or a Qt translation
    (the UI is English only)."""
    dest = _posix(dest)
    if dest.startswith("PySide6/") and "/translations/" in f"/{dest}":
        return True
    if "/plugins/" not in dest:
        return False
    folder, _, filename = dest.split("/plugins/", 1)[1].partition("/")
    if folder in UNUSED_QT_PLUGIN_DIRS:
        return True
    stem = filename.split(".", 1)[0]
    stem = stem.removeprefix("lib")
    return f"{folder}/{stem}" in UNUSED_QT_PLUGINS


TocEntry = tuple[str, str, str]


def _is_root(entry: TocEntry) -> bool:
    """Binaries loaded for their own sake (as opposed to only as someone's dependency)."""
    dest, _, typecode = entry
    name = PurePath(_posix(dest)).name.lower()
    return (
        typecode in {"EXTENSION", "EXECUTABLE"}
        or "/plugins/" in _posix(dest)
        or name.startswith(("libpython", "python3"))
    )


def _reachable(roots: Iterable[TocEntry], by_name: dict[str, list[TocEntry]],
               imports_of: Callable[[str], set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        _, src, typecode = stack.pop()
        if typecode == "SYMLINK":
            continue
        for needed in imports_of(src):
            if needed not in seen and needed in by_name:
                seen.add(needed)
                stack.extend(by_name[needed])
    return seen


def default_imports_of(src: str) -> set[str]:
    from PyInstaller.depend.bindepend import get_imports  # type: ignore[import-untyped]

    return {PurePath(name).name for name, _ in get_imports(src)}


def prune_binaries(
    binaries: Iterable[TocEntry],
    *,
    imports_of: Callable[[str], set[str]] = default_imports_of,
) -> list[TocEntry]:
    """The binaries TOC without the unused Qt plugins and without the libraries
    that only those plugins needed.

    A library is dropped only when it was reachable (by link-time imports) from
    the full set of roots and is not reachable from the kept ones; libraries
    PyInstaller collected for other reasons (ctypes, hooks) stay.
    """
    toc = list(binaries)
    kept = [e for e in toc if not is_unused_qt_file(e[0])]
    by_name: dict[str, list[TocEntry]] = {}
    for entry in toc:
        if not _is_root(entry):
            by_name.setdefault(PurePath(_posix(entry[0])).name, []).append(entry)
    before = _reachable([e for e in toc if _is_root(e)], by_name, imports_of)
    after = _reachable([e for e in kept if _is_root(e)], by_name, imports_of)
    orphans = before - after
    return [e for e in kept if _is_root(e) or PurePath(_posix(e[0])).name not in orphans]


def prune_datas(datas: Iterable[TocEntry], binaries: Iterable[TocEntry]) -> list[TocEntry]:
    """A datas TOC without Qt translations, unused plugins, and the symlinks
    (PyInstaller keeps them in datas) whose target binary was pruned."""
    present = {_posix(e[0]) for e in binaries}
    kept = [e for e in datas if not is_unused_qt_file(e[0])]
    present |= {_posix(e[0]) for e in kept if e[2] != "SYMLINK"}
    out: list[TocEntry] = []
    for dest, src, typecode in kept:
        if typecode == "SYMLINK":
            target = posixpath.normpath(posixpath.join(posixpath.dirname(_posix(dest)), _posix(src)))
            if target not in present:
                continue
        out.append((dest, src, typecode))
    return out


def make_icons(out_dir: Path) -> dict[str, Path]:
    """Render the platform icons from resources/icons/app.svg (in a child process,
    so Qt never starts inside PyInstaller)."""
    subprocess.run(  # noqa: S603 - fixed argv, our own script
        [sys.executable, str(PACKAGING / "make_icons.py"), "--svg", str(APP_SVG), "--out", str(out_dir)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return {"ico": out_dir / "app.ico", "icns": out_dir / "app.icns", "png": out_dir / "app-256.png"}
