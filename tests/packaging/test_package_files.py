"""The packaging metadata: desktop entries, AppStream, Info.plist, Windows
version resource, the spec and its build helpers. Fast: nothing is built."""

from __future__ import annotations

import ast
import configparser
import plistlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import mcp_auth_desktop

from ._support import PACKAGING, ROOT, spec_support

LINUX = PACKAGING / "linux"
APP_ID = "io.github.mcp_auth_desktop"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
AUTOSTART = LINUX / "autostart.desktop.in"
SPEC = PACKAGING / "mcp-auth-desktop.spec"


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: apt-get install {package} (scripts/bootstrap.sh test should)"
    return path


def _desktop_entry(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def _desktop_file_validate(path: Path) -> None:
    result = subprocess.run(
        [_tool("desktop-file-validate", "desktop-file-utils"), str(path)],
        capture_output=True, text=True, timeout=30,
    )
    # It prints "hint:" lines for style; errors and warnings fail.
    problems = [line for line in result.stdout.splitlines() if ": hint:" not in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


# ---------------------------------------------------------------- Linux


def test_desktop_file_launches_the_gui_with_the_app_icon() -> None:
    entry = _desktop_entry(DESKTOP.read_text(encoding="utf-8"))
    assert entry["Type"] == "Application"
    assert entry["Name"] == mcp_auth_desktop.APP_NAME
    assert entry["Exec"].split()[0] == spec_support.GUI_NAME
    assert entry["TryExec"] == spec_support.GUI_NAME
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")


def test_desktop_file_passes_desktop_file_validate() -> None:
    _desktop_file_validate(DESKTOP)


def test_metainfo_matches_the_desktop_file_and_the_package_version() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("name") == mcp_auth_desktop.APP_NAME
    launchable = root.find("launchable")
    assert launchable is not None and launchable.text == DESKTOP.name
    assert launchable.get("type") == "desktop-id"
    binaries = {b.text for b in root.iterfind("provides/binary")}
    assert binaries == {spec_support.GUI_NAME, spec_support.CLI_NAME}
    releases = root.findall("releases/release")
    assert releases, "metainfo lists no release"
    assert releases[0].get("version") == mcp_auth_desktop.__version__, (
        "add a <release> for the new version at the top of the metainfo <releases>"
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", releases[0].get("date") or "")
    desktop_categories = set(
        filter(None, _desktop_entry(DESKTOP.read_text(encoding="utf-8"))["Categories"].split(";"))
    )
    assert {c.text for c in root.iterfind("categories/category")} == desktop_categories


def test_metainfo_passes_appstreamcli_validate() -> None:
    result = subprocess.run(
        [_tool("appstreamcli", "appstream"), "validate", "--no-net", str(METAINFO)],
        capture_output=True, text=True, timeout=60,
    )
    output = result.stdout + result.stderr
    # "I:" lines are informational (e.g. older appstream not knowing <developer>).
    problems = [line for line in output.splitlines() if re.match(r"^[EW]:", line)]
    assert result.returncode == 0 and not problems, output


AUTOSTART_VALUES = {
    "@EXEC@": '"/opt/MCP Auth/mcp-auth-desktop" --hidden',
    "@TRYEXEC@": "/opt/MCP Auth/mcp-auth-desktop",
    "@ICON@": "/opt/MCP Auth/_internal/resources/icons/app.svg",
}


def test_autostart_template_has_exactly_the_documented_placeholders() -> None:
    text = AUTOSTART.read_text(encoding="utf-8")
    assert set(re.findall(r"@[A-Z_]+@", text)) == set(AUTOSTART_VALUES)


def test_autostart_template_renders_to_a_valid_enabled_entry(tmp_path: Path) -> None:
    text = AUTOSTART.read_text(encoding="utf-8")
    for placeholder, value in AUTOSTART_VALUES.items():
        text = text.replace(placeholder, value)
    rendered = tmp_path / "mcp-auth-desktop.desktop"
    rendered.write_text(text, encoding="utf-8")
    _desktop_file_validate(rendered)
    entry = _desktop_entry(text)
    assert entry["Exec"] == AUTOSTART_VALUES["@EXEC@"]
    assert entry["TryExec"] == AUTOSTART_VALUES["@TRYEXEC@"]
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert "Hidden" not in entry  # Hidden=true would disable the entry


# ---------------------------------------------------------------- macOS


def test_info_plist_makes_a_tray_only_high_dpi_app() -> None:
    with spec_support.INFO_PLIST.open("rb") as fh:
        raw = plistlib.load(fh)
    assert raw["LSUIElement"] is True
    assert raw["NSHighResolutionCapable"] is True
    assert raw["CFBundleIdentifier"] == spec_support.MAC_BUNDLE_ID
    # Apple: bundle ids use only letters, digits, hyphen and period.
    assert re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", spec_support.MAC_BUNDLE_ID)
    merged = spec_support.mac_info_plist("9.8.7")
    assert merged["CFBundleShortVersionString"] == "9.8.7"
    assert merged["CFBundleVersion"] == "9.8.7"
    assert merged["LSUIElement"] is True


# ---------------------------------------------------------------- Windows


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.1.0", (0, 1, 0, 0)),
        ("2.0", (2, 0, 0, 0)),
        ("1.2.3rc1", (1, 2, 3, 0)),
        ("1.2.3+local.7", (1, 2, 3, 0)),
        ("10.20.30.40", (10, 20, 30, 0)),
    ],
)
def test_version_tuple(version: str, expected: tuple[int, int, int, int]) -> None:
    assert spec_support.version_tuple(version) == expected


class _Recorder:
    """Stands in for PyInstaller's versioninfo classes (which need pefile)."""

    def __init__(self, kind: str, *args: object, **kwargs: object) -> None:
        self.kind, self.args, self.kwargs = kind, args, kwargs


def _eval_version_file(path: Path) -> _Recorder:
    names = ["VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable",
             "StringStruct", "VarFileInfo", "VarStruct"]
    env = {n: (lambda *a, _n=n, **k: _Recorder(_n, *a, **k)) for n in names}
    tree = ast.parse(path.read_text(encoding="utf-8"), mode="eval")
    result = eval(compile(tree, str(path), "eval"), {"__builtins__": {}}, env)  # noqa: S307
    assert isinstance(result, _Recorder) and result.kind == "VSVersionInfo"
    return result


def test_windows_version_resource_carries_the_version(tmp_path: Path) -> None:
    out = spec_support.render_version_info("3.4.5", "mcp-auth.exe", tmp_path / "v.txt")
    info = _eval_version_file(out)
    ffi = info.kwargs["ffi"]
    assert isinstance(ffi, _Recorder)
    assert ffi.kwargs["filevers"] == (3, 4, 5, 0) == ffi.kwargs["prodvers"]
    string_table = info.kwargs["kids"][0].args[0][0]  # type: ignore[index]
    strings = {s.args[0]: s.args[1] for s in string_table.args[1]}
    assert strings["FileVersion"] == strings["ProductVersion"] == "3.4.5"
    assert strings["OriginalFilename"] == "mcp-auth.exe"
    assert strings["ProductName"] == mcp_auth_desktop.APP_NAME
    assert "@" not in out.read_text(encoding="utf-8")


# ---------------------------------------------------------------- spec


def test_spec_is_valid_python_and_its_scripts_exist() -> None:
    source = SPEC.read_text(encoding="utf-8")
    ast.parse(source)  # a syntax error would only show up at build time
    for script in ("launch_gui.py", "launch_cli.py", "spec_support.py"):
        assert script in source
        assert (PACKAGING / script).is_file()
    for path in (spec_support.APP_SVG, spec_support.INFO_PLIST, spec_support.VERSION_TEMPLATE,
                 spec_support.AUTOSTART_TEMPLATE,
                 PACKAGING / "make_icons.py", PACKAGING / "mcp_auth_bundle_check.py"):
        assert path.is_file(), path
    assert spec_support.RESOURCES == ROOT / "mcp_auth_desktop" / "resources" and spec_support.RESOURCES.is_dir()


def test_makefile_targets_match_the_spec_output() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "packaging/mcp-auth-desktop.spec" in makefile
    assert f"dist/{spec_support.GUI_NAME}/{spec_support.GUI_NAME}" in makefile


def test_spec_version_is_the_package_version() -> None:
    assert spec_support.read_version() == mcp_auth_desktop.__version__


def _pyside_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "PySide6" and len(parts) > 1 and parts[1].startswith("Qt"):
                found.add(parts[1])
    return found


def test_the_app_imports_only_the_bundled_qt_modules() -> None:
    # Every other PySide6 module is excluded from the bundle, so an import of
    # one would work from source and fail only in the packaged app.
    used: dict[str, set[str]] = {}
    for path in (ROOT / "mcp_auth_desktop").rglob("*.py"):
        for module in _pyside_imports(path):
            used.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    extra = {m: files for m, files in used.items() if m not in spec_support.QT_MODULES}
    assert not extra, f"add these to spec_support.QT_MODULES (or drop the import): {extra}"
    assert {"QtCore", "QtGui", "QtWidgets"} <= set(used)


def test_qt_excludes_cover_unused_modules_only() -> None:
    excludes = set(spec_support.qt_excludes())
    for needed in spec_support.QT_MODULES:
        assert f"PySide6.{needed}" not in excludes
    assert {"PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtOpenGL"} <= excludes
    assert {"PyQt5", "PyQt6", "tkinter"} <= set(spec_support.excludes())


# ---------------------------------------------------------------- pruning


@pytest.mark.parametrize(
    ("dest", "unused"),
    [
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", True),
        ("PySide6\\plugins\\imageformats\\qjpeg.dll", True),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.dylib", True),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", False),
        ("PySide6/Qt/plugins/imageformats/libqico.so", False),
        ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", False),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", False),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False),
        ("PySide6\\plugins\\platforms\\qwindows.dll", False),
        ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", False),
        ("PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-x11-integration.so", True),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
        ("PySide6/Qt/translations/qtbase_de.qm", True),
        ("PySide6\\translations\\qtbase_de.qm", True),
        ("resources/icons/app.svg", False),
        ("resources/translations/x.qm", False),
    ],
)
def test_unused_qt_files(dest: str, unused: bool) -> None:
    assert spec_support.is_unused_qt_file(dest) is unused


def test_prune_drops_unused_plugins_and_the_libraries_only_they_needed() -> None:
    P = "PySide6/Qt/plugins/"
    toc = [
        (P + "platformthemes/libqgtk3.so", "/src/qgtk3", "BINARY"),
        (P + "platforms/libqxcb.so", "/src/qxcb", "BINARY"),
        ("_ssl.cpython-311-x86_64-linux-gnu.so", "/src/_ssl", "EXTENSION"),
        ("libgtk-3.so.0", "/src/gtk", "BINARY"),
        ("libcairo.so.2", "/src/cairo", "BINARY"),
        ("libX11.so.6", "/src/x11", "BINARY"),
        ("libssl.so.3", "/src/ssl", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/src/qtgui", "BINARY"),
        ("libctypes_only.so", "/src/ctypes_only", "BINARY"),
    ]
    imports = {
        "/src/qgtk3": {"libgtk-3.so.0", "libX11.so.6", "libQt6Gui.so.6"},
        "/src/gtk": {"libcairo.so.2", "libX11.so.6", "libc.so.6"},
        "/src/qxcb": {"libX11.so.6", "libQt6Gui.so.6"},
        "/src/_ssl": {"libssl.so.3"},
    }
    kept = spec_support.prune_binaries(toc, imports_of=lambda src: imports.get(src, set()))
    names = {dest for dest, _, _ in kept}
    assert names == {
        P + "platforms/libqxcb.so",
        "_ssl.cpython-311-x86_64-linux-gnu.so",
        "libX11.so.6",
        "libssl.so.3",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "libctypes_only.so",  # never linked by anyone: collected for another reason, kept
    }


def test_prune_datas_drops_translations_and_dangling_symlinks() -> None:
    binaries = [("PySide6/Qt/lib/libQt6Gui.so.6", "/src/gui", "BINARY")]
    datas = [
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("libQt6EglFSDeviceIntegration.so.6", "PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so.6",
         "SYMLINK"),
        ("PySide6/Qt/translations/qtbase_fr.qm", "/src/fr.qm", "DATA"),
        ("resources/icons/app.svg", "/src/app.svg", "DATA"),
    ]
    kept = spec_support.prune_datas(datas, binaries)
    assert [d for d, _, _ in kept] == ["libQt6Gui.so.6", "resources/icons/app.svg"]


def test_launchers_hand_over_before_importing_the_app() -> None:
    # --check-bundle and "-m module" must work even if the app itself cannot start.
    for launcher in ("launch_gui.py", "launch_cli.py"):
        source = (PACKAGING / launcher).read_text(encoding="utf-8")
        assert source.index("--check-bundle") < source.index("import main")


def test_gui_launcher_runs_a_module_like_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "launch_gui.py"), "-m", "mcp_auth_desktop", "--help"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: mcp-auth-desktop" in result.stdout


@pytest.mark.parametrize(("launcher", "expected"), [("launch_gui.py", "qt"), ("launch_cli.py", "modules")])
def test_bundle_check_passes_from_source(launcher: str, expected: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".cache" / "no-home")}
    result = subprocess.run(
        [sys.executable, str(PACKAGING / launcher), "--check-bundle"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok   {expected}:" in result.stdout
    assert "(from source)" in result.stdout
    assert result.stdout.rstrip().endswith("bundle check: all passed")
