"""Checks that a frozen bundle holds everything the app loads lazily.

Run as ``mcp-auth-desktop --check-bundle`` or ``mcp-auth --check-bundle``
(the launchers hand over before importing the app), or from source with
``python packaging/launch_gui.py --check-bundle``. PyInstaller only sees
static imports; this catches what it cannot: resources, Qt plugins, keyring
backends found through entry points, the TLS trust store, and modules imported
by name. Prints one line per check and exits 1 when any check fails.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path

QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtSvg", "QtNetwork")
KEYRING_BACKENDS = ("SecretService", "macOS", "Windows")


def _import_tree(package: str, *, skip_prefixes: tuple[str, ...] = ()) -> str:
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        # __main__ modules run the program when imported.
        if info.name.endswith(".__main__") or info.name.startswith(skip_prefixes):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return f"{len(names)} modules import"


def check_version() -> str:
    import mcp_auth_desktop

    frozen = "frozen" if getattr(sys, "frozen", False) else "from source"
    return f"{mcp_auth_desktop.APP_NAME} {mcp_auth_desktop.__version__} ({frozen})"


def check_resources() -> str:
    from mcp_auth_desktop.resources_path import resource_path, resources_dir

    app_svg = resource_path("icons", "app.svg")
    if not app_svg.is_file():
        raise FileNotFoundError(f"app icon missing at {app_svg}")
    # The spec adds packaging/linux/autostart.desktop.in to the bundle's templates.
    autostart = resource_path("templates", "autostart.desktop.in")
    if getattr(sys, "frozen", False) and not autostart.is_file():
        raise FileNotFoundError(f"autostart template missing at {autostart}")
    count = sum(1 for p in resources_dir().rglob("*") if p.is_file())
    templates = resource_path("templates")
    n_templates = sum(1 for p in templates.rglob("*") if p.is_file()) if templates.is_dir() else 0
    return f"{count} files ({n_templates} templates) under {resources_dir()}"


def check_app_modules() -> str:
    return _import_tree("mcp_auth_desktop")


def check_cli_modules() -> str:
    return _import_tree("mcp_auth_desktop", skip_prefixes=("mcp_auth_desktop.gui",))


def check_mock_server() -> str:
    return _import_tree("mock_server")


def check_qt() -> str:
    for name in QT_MODULES:
        importlib.import_module(f"PySide6.{name}")
    from PySide6.QtGui import QIcon, QImageReader
    from PySide6.QtNetwork import QLocalServer
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from mcp_auth_desktop.resources_path import resource_path

    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display:
        # Qt aborts the process when it finds no display; check what we can.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"svg", "ico", "png"} - formats
    if missing:
        raise RuntimeError(f"Qt image format plugins missing: {sorted(missing)}")
    # Loading through QIcon exercises the SVG icon engine plugin, not just QtSvg.
    pixmap = QIcon(str(resource_path("icons", "app.svg"))).pixmap(64, 64)
    if pixmap.isNull():
        raise RuntimeError("the SVG icon engine could not render app.svg")
    server = QLocalServer()
    del server
    platform = QApplication.platformName()
    tray = QSystemTrayIcon.isSystemTrayAvailable()
    del app
    return f"platform {platform}, tray available: {tray}, image formats ok"


def check_keyring() -> str:
    from importlib.metadata import entry_points

    import keyring

    found = {ep.name: ep.value for ep in entry_points(group="keyring.backends")}
    absent = [name for name in KEYRING_BACKENDS if name not in found]
    if absent:
        raise RuntimeError(f"keyring entry points missing (package metadata not bundled?): {absent}")
    for name in KEYRING_BACKENDS:
        importlib.import_module(found[name])
    # The third-party modules the native backend of this platform needs.
    if sys.platform.startswith("linux"):
        importlib.import_module("secretstorage")
        importlib.import_module("jeepney.io.blocking")
    elif sys.platform == "win32":
        importlib.import_module("win32ctypes.pywin32.win32cred")
    elif sys.platform == "darwin":
        importlib.import_module("keyring.backends.macOS.api")
    backend = type(keyring.get_keyring())
    return f"backends {', '.join(KEYRING_BACKENDS)} importable; active: {backend.__module__}.{backend.__name__}"


def check_tls() -> str:
    import ssl

    import certifi

    bundle = Path(certifi.where())
    ssl.create_default_context(cafile=str(bundle))
    return f"CA bundle {bundle.name} loads ({bundle.stat().st_size} bytes)"


def check_crypto() -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = AESGCM.generate_key(bit_length=256)
    nonce = bytes(12)
    box = AESGCM(key)
    if box.decrypt(nonce, box.encrypt(nonce, b"check", b"ad"), b"ad") != b"check":
        raise RuntimeError("AES-GCM round trip returned different bytes")
    return "AES-GCM round trip"


def checks_for(gui: bool) -> list[tuple[str, Callable[[], str]]]:
    common: list[tuple[str, Callable[[], str]]] = [
        ("version", check_version),
        ("resources", check_resources),
        ("keyring", check_keyring),
        ("tls", check_tls),
        ("crypto", check_crypto),
    ]
    if gui:
        return [
            *common,
            ("qt", check_qt),
            ("modules", check_app_modules),
            ("mock_server", check_mock_server),
        ]
    return [*common, ("modules", check_cli_modules)]


def main(*, gui: bool) -> int:
    failed = 0
    for name, check in checks_for(gui):
        try:
            detail = check()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
            failed += 1
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        else:
            print(f"ok   {name}: {detail}", flush=True)
    print("bundle check: " + ("all passed" if not failed else f"{failed} failed"), flush=True)
    return 1 if failed else 0
