"""The desktop app's ``main`` (run by ``gui/entry.py``, the entry point of
``mcp-auth-desktop``, which loads this module first).

Parses the command line, sets up redacted logging, then builds the
QApplication, the single-instance guard and the tray icon ("starting"), loads the
rest of the app, and runs :class:`DesktopApp` (``desktop_app``: every long-lived
object of one run, built in order and shut down backwards) on the qasync event
loop. ``--self-test`` runs ``self_test``.

This module imports only what the tray icon needs (``gui/entry.py``): the names it
re-exports from the window's parts (``DesktopApp``, ...) load when first read.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from mcp_auth_desktop import __version__
from mcp_auth_desktop.core.childenv import withhold_secrets_from_children
from mcp_auth_desktop.core.safetext import SafeFormatter
from mcp_auth_desktop.gui.gc_guard import GuiThreadCollector
from mcp_auth_desktop.gui.qt_app import make_qapplication
from mcp_auth_desktop.gui.redact import Redactor
from mcp_auth_desktop.gui.single_instance import SingleInstance
from mcp_auth_desktop.gui.source_cache import drop_source_cache
from mcp_auth_desktop.gui.start_report import FIRST_FRAME_MARKER, READY_MARKER, mark, tray_line
from mcp_auth_desktop.gui.tray import TrayIcon

if TYPE_CHECKING:
    from mcp_auth_desktop.gui.demo import DEMO_NAME
    from mcp_auth_desktop.gui.desktop_app import DesktopApp
    from mcp_auth_desktop.gui.vault_unlock import (
        KEYRING_NOTICE_DELAY_MS,
        KEYRING_TIMEOUT,
        StartCancelled,
    )

__all__ = ["main", "build_parser", "make_qapplication", "DesktopApp", "StartCancelled",
           "DEMO_NAME", "FIRST_FRAME_MARKER", "READY_MARKER", "KEYRING_TIMEOUT",
           "KEYRING_NOTICE_DELAY_MS"]

log = logging.getLogger(__name__)

#: Names re-exported from the window's parts, by the module that holds each: loaded
#: when first read, so that importing this module stays what the tray icon needs.
_LATER = {"DesktopApp": "mcp_auth_desktop.gui.desktop_app",
          "StartCancelled": "mcp_auth_desktop.gui.vault_unlock",
          "KEYRING_TIMEOUT": "mcp_auth_desktop.gui.vault_unlock",
          "KEYRING_NOTICE_DELAY_MS": "mcp_auth_desktop.gui.vault_unlock",
          "DEMO_NAME": "mcp_auth_desktop.gui.demo"}


def __getattr__(name: str) -> object:
    if name in _LATER:
        return getattr(importlib.import_module(_LATER[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mcp-auth-desktop",
        description="Sign in to MCP servers and keep their OAuth tokens fresh, from the tray.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--demo", action="store_true",
                   help="also start the bundled mock MCP server and add it, to try signing in "
                        "(implies --ephemeral: the mock server forgets everything when it stops)")
    p.add_argument("--ephemeral", action="store_true",
                   help="keep servers and tokens in memory only; nothing is saved")
    p.add_argument("--self-test", action="store_true",
                   help="build the UI offscreen, sign in to an in-process mock server, exit 0 if all works")
    p.add_argument("--hidden", action="store_true",
                   help="start in the tray without showing the window (used at login)")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    # For bench/bench_gui.py: print a marker once the tray icon is up, then quit.
    p.add_argument("--exit-after-start", action="store_true", help=argparse.SUPPRESS)
    return p


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        return True


def configure_logging(verbose: bool, redactor: Redactor) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactingFilter(redactor))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "asyncio", "qasync"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def show_starting_tray(app: QApplication, *, exit_after_start: bool) -> TrayIcon | None:
    """The tray icon, shown "starting" before the rest of the app loads (None: no tray).

    It is what a tray app's start is measured by, and what a login start (--hidden) shows
    at all; the window, from the settings, follows once its modules are in."""
    tray: TrayIcon | None = None
    if QSystemTrayIcon.isSystemTrayAvailable():
        tray = TrayIcon()
        tray.show()
        app.processEvents()  # let the icon reach the tray host now, not after the window
    mark("tray_icon")
    if exit_after_start:
        print(tray_line(tray is not None and tray.isVisible()), flush=True)
    return tray


def main(argv: list[str] | None = None) -> int:
    mark("imports")
    withhold_secrets_from_children()  # before anything can start a child (issue 15 #9)
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    redactor = Redactor()
    configure_logging(args.verbose, redactor)
    if args.self_test:
        gc.enable()  # no GuiThreadCollector in the self-test: automatic collection (gui/entry.py)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from mcp_auth_desktop.gui.self_test import run_self_test

        return int(run_self_test())

    app = make_qapplication([sys.argv[0]])
    mark("qapplication")
    instance = SingleInstance()
    if instance.ask_running_instance():
        print("MCP Auth Desktop is already running; its window was brought forward.")
        return 0
    if not instance.listen():
        log.info("could not claim the single-instance socket; running anyway")
    collector = GuiThreadCollector(app)
    collector.start()
    # Python only sees Ctrl+C when it runs; a idle timer gives it the chance.
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
    mark("single_instance")
    tray = show_starting_tray(app, exit_after_start=args.exit_after_start)
    from mcp_auth_desktop.gui.entry import load_window_parts

    desktop_app = load_window_parts()  # the window's modules, once the tray icon is up
    mark("window_imports")
    desktop = desktop_app(app, args, instance=instance, redactor=redactor, tray=tray)
    # The window and the tray from the settings, before asyncio and qasync even load
    # (gui/entry.py defers asyncio): the first frame waits for neither.
    desktop.show_first_frame()
    import qasync  # and asyncio with it: the sources PySide6's hook read for them go too

    drop_source_cache()  # gui/source_cache.py: about 1 MiB less once started

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        try:
            return runner.run(desktop.run())
        except RuntimeError as exc:
            # The session manager (logout) stopped Qt's loop under us: still close properly.
            log.info("event loop stopped (%s); shutting down", exc)
            runner.run(desktop.shutdown())
            return 0
        except KeyboardInterrupt:
            return 130
        finally:
            wake.stop()
