"""The desktop app's long-lived objects, built in order and shut down backwards.

Builds, in order: storage's settings, the first frame from them alone
(``first_frame``: the bridge over a :class:`SettingsPreview`, the window and the
tray; before the event loop is even made, see ``show_first_frame``), then the
vault (:mod:`vault_unlock`: asking for a passphrase, or to unlock the keyring,
as needed), the runtime (``mcp_auth_desktop.runtime``: the shared HTTP client
and the TokenManager, wired as the CLI and the self-test wire them) handed to
the bridge, and the demo server for ``--demo``. Quitting runs the same steps
backwards: cancel the GUI's tasks, close the manager, the HTTP client and the
vault, stop the demo server. Nothing else in the GUI constructs a collaborator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from mcp_auth_desktop.core.errors import McpAuthError
from mcp_auth_desktop.core.ports import (
    JsonObject,
    ManagerLike,
    SecretVault,
    SettingsStore,
    StorageLocation,
)
from mcp_auth_desktop.gui import autostart
from mcp_auth_desktop.gui.actions import ServerActions
from mcp_auth_desktop.gui.bridge import ManagerBridge
from mcp_auth_desktop.gui.browser_open import open_in_browser
from mcp_auth_desktop.gui.clipboard import SecretClipboard
from mcp_auth_desktop.gui.damage_report import DamageReport
from mcp_auth_desktop.gui.first_frame import build_first_frame
from mcp_auth_desktop.gui.main_window import MainWindow
from mcp_auth_desktop.gui.preferences import GuiSettings, Preferences
from mcp_auth_desktop.gui.preview import SettingsPreview
from mcp_auth_desktop.gui.redact import Redactor
from mcp_auth_desktop.gui.single_instance import SingleInstance
from mcp_auth_desktop.gui.source_cache import drop_source_cache
from mcp_auth_desktop.gui.start_report import first_frame_line, mark, ready_line, trace_line
from mcp_auth_desktop.gui.tray import TrayIcon
from mcp_auth_desktop.gui.unexpected import UnexpectedErrors, show_fatal
from mcp_auth_desktop.gui.vault_unlock import StartCancelled, VaultUnlock
from mcp_auth_desktop.runtime import (
    ManagerFactory,
    Runtime,
    Storage,
    open_runtime,
    open_settings,
    open_storage,
    skip_httpx_command_line,
)

if TYPE_CHECKING:
    import httpx

    from mcp_auth_desktop.gui.demo import DemoServer

__all__ = ["DesktopApp", "StartCancelled"]

log = logging.getLogger(__name__)


class DesktopApp:
    """Owns every long-lived object of one run and shuts them down in order."""

    def __init__(self, qapp: QApplication, args: argparse.Namespace, *,
                 instance: SingleInstance | None = None, redactor: Redactor | None = None,
                 manager_factory: ManagerFactory[ManagerLike] | None = None,
                 http_factory: Callable[[], httpx.AsyncClient] | None = None,
                 url_opener: Callable[[str], None] | None = None,
                 demo_command: list[str] | None = None, tray: TrayIcon | None = None) -> None:
        self.qapp = qapp
        self.args = args
        self.instance = instance
        self.redactor = redactor or Redactor()
        self._manager_factory = manager_factory
        self._http_factory = http_factory
        self._url_opener = url_opener
        self._demo_command = demo_command
        self._signals: list[int] = []
        self.vault: SecretVault | None = None
        self.settings: SettingsStore | None = None
        self.http: httpx.AsyncClient | None = None
        self.manager: ManagerLike | None = None
        self.runtime: Runtime[ManagerLike] | None = None
        self.bridge: ManagerBridge | None = None
        self.preferences: Preferences | None = None
        self.clipboard: SecretClipboard | None = None
        self.actions: ServerActions | None = None
        self.window: MainWindow | None = None
        #: ``app.main`` shows it ("starting") before this module even loads.
        self.tray: TrayIcon | None = tray
        self.demo: DemoServer | None = None
        self._quit: asyncio.Event | None = None
        self._shut_down = False
        self._told_about_tray = False
        #: The excepthook and the loop's handler while running (restored at shutdown).
        self.errors = UnexpectedErrors(self.redactor, lambda: self.window)
        self.unlock = VaultUnlock(lambda: self.window, self._can_ask, lambda: self.preview)
        self.preview: SettingsPreview | None = None  # the rows until the manager takes over
        self.damage: DamageReport | None = None
        self.startup_seconds: float | None = None
        #: Until the window and the tray were first shown (from the settings alone).
        self.first_frame_seconds: float | None = None
        self._t0 = 0.0  # perf_counter() when the first frame began
        self._first_frame_error: McpAuthError | None = None

    @property
    def damage_box(self) -> QMessageBox | None:
        """The "damaged storage file" box while it is up."""
        return self.damage.damage_box if self.damage is not None else None

    # ------------------------------------------------------------------ run

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._quit = asyncio.Event()
        self.errors.install(loop)
        for sig in (signal.SIGTERM,):
            try:
                loop.add_signal_handler(sig, self.request_quit)
                self._signals.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not on this platform / not the main thread
        try:
            try:
                if not await self._start_unless_quit():
                    return 0  # quit (tray, window, SIGTERM) while the vault was still opening
            except McpAuthError as exc:
                await show_fatal(exc.user_message, can_ask=self._can_ask())
                return 1
            except StartCancelled as exc:
                log.info("not started: %s", exc)
                return 1
            if self.args.exit_after_start:
                self.request_quit()
            try:
                await self._quit.wait()
            except asyncio.CancelledError:
                log.info("interrupted; shutting down")
            return 0
        finally:
            await self.shutdown()

    def request_quit(self) -> None:
        if self._quit is not None:
            self._quit.set()

    async def _start_unless_quit(self) -> bool:
        """Run :meth:`start`; False if the user quit first.

        The window and the tray are up while the vault opens (which may wait for the
        keyring's unlock prompt), so Quit can come before the start has finished.
        """
        assert self._quit is not None
        starting = asyncio.ensure_future(self.start())
        quitting = asyncio.ensure_future(self._quit.wait())
        try:
            await asyncio.wait({starting, quitting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            quitting.cancel()
        if starting.done():
            starting.result()  # raises what the start raised
            return True
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        log.info("quit while starting")
        return False

    def show_first_frame(self) -> None:
        """Show the window and the tray from the settings file, before the event loop
        (``app.main``), so the first frame waits for no asyncio, ssl or qasync
        (``gui/entry.py``). An in-memory store is made in the loop: :meth:`start` shows
        that frame. A settings file that cannot be read is left for :meth:`start`."""
        if self.window is not None or self.args.ephemeral or self.args.demo:
            return
        self._t0 = time.perf_counter()
        try:
            settings = open_settings()  # no keyring, no cipher: a folder check and a file
            document = settings.load_sync()
        except McpAuthError as exc:
            self._first_frame_error = exc  # start() raises it in the loop, which shows it
            return
        self._build_first_frame(settings, document, None)
        self.qapp.processEvents()  # let the tray icon and the window be shown
        self._first_frame_shown()

    def _build_first_frame(self, settings: SettingsStore, document: JsonObject,
                           location: StorageLocation | None) -> None:
        self.settings = settings
        frame = build_first_frame(settings, document, location, redactor=self.redactor,
                                  url_opener=self._url_opener or self._open_in_browser,
                                  keep_in_tray=self._keep_in_tray, on_quit=self.request_quit,
                                  hidden=bool(self.args.hidden), tray=self.tray)
        self.preferences, self.preview, self.bridge = frame.preferences, frame.preview, frame.bridge
        self.clipboard, self.actions = frame.clipboard, frame.actions
        self.window, self.tray = frame.window, frame.tray
        self.window.settingsSubmitted.connect(self._on_settings_submitted)
        if self.instance is not None:
            self.instance.showRequested.connect(self._on_show_requested)
            self.instance.signInRequested.connect(self._on_sign_in_requested)

    def _first_frame_shown(self) -> None:
        mark("shown")
        self.first_frame_seconds = time.perf_counter() - self._t0
        if self.args.exit_after_start and self.preview is not None:
            # Which of the deferred parts were loaded by then (bench/bench_gui.py, tests).
            print(first_frame_line(len(self.preview.servers()), self._tray_shown()), flush=True)
            print(trace_line(), flush=True)

    async def start(self) -> None:
        """The settings, the first frame from them alone, then the vault, then the runtime.

        The window and the tray are shown from the non-secret settings (:class:`SettingsPreview`,
        by :meth:`show_first_frame` before the loop unless an in-memory store) before the vault
        is opened (the keyring may wait for its unlock prompt; the window says so) and before
        the HTTP stack and the manager are imported; the bridge then hands every row over to
        the real manager. Nothing that needs a token works until then.
        """
        if self._first_frame_error is not None:
            raise self._first_frame_error
        ephemeral: Storage | None = None
        if self.window is None:
            self._t0 = time.perf_counter()
            mark("event_loop")
            if self.args.ephemeral or self.args.demo:
                ephemeral = await open_storage(ephemeral=True)
                settings: SettingsStore = ephemeral[1]
            else:
                settings = open_settings()  # no keyring, no cipher: a folder check and a file
            location = ephemeral[0].location if ephemeral else None
            self._build_first_frame(settings, await settings.load(), location)
            await asyncio.sleep(0)  # let the tray icon and the window be shown
            self._first_frame_shown()
        assert self.bridge is not None and self.window is not None and self.settings is not None
        assert self.actions is not None
        settings = self.settings
        t0 = self._t0
        # What the first frame did not need: the vault (the keyring), the HTTP stack, the
        # manager, every token. The settings stay the one store the window already uses.
        vault = ephemeral[0] if ephemeral else await self.unlock.open()
        self.vault = vault
        try:
            factory = self._manager_factory or _token_manager()
            drop_source_cache()  # after each batch of imports: gui/source_cache.py
            runtime = await open_runtime(
                storage=(vault, settings), http=self._http_factory() if self._http_factory else None,
                manager_factory=factory, audit=not (self.args.ephemeral or self.args.demo))
        except BaseException:
            self.vault = None  # open_runtime closed it
            raise
        drop_source_cache()
        self.runtime, self.http = runtime, runtime.http
        manager = self.manager = runtime.manager
        self.bridge.attach(manager)
        self.preview = None
        self.window.show_storage()
        if self.tray is not None:
            self.tray.rebuild_menu()  # the real manager's servers, for hosts that never ask
        if runtime.audit is not None:
            audit = runtime.audit
            self.actions.tokenCopied.connect(lambda sid: audit.note(sid, "access token copied"))
        self.damage = DamageReport(self.window, parent=self.qapp)
        self.damage.watch(manager, self.bridge,
                          [("token vault", self.vault), ("settings file", self.settings)])
        if self.args.demo:
            await self._start_demo()
        await asyncio.sleep(0)
        self.startup_seconds = time.perf_counter() - t0
        log.info("ready in %.2f s: %d server(s), tray %s", self.startup_seconds,
                 len(manager.servers()), "shown" if self._tray_shown() else "unavailable")
        if self.args.exit_after_start:
            print(ready_line(len(manager.servers()), self._tray_shown()), flush=True)

    async def _start_demo(self) -> None:
        assert self.bridge is not None and self.window is not None
        from mcp_auth_desktop.gui.demo import DemoServer, add_demo_server

        self.demo = DemoServer(self._demo_command)
        await add_demo_server(self.demo, self.bridge, self.window)

    def _on_show_requested(self) -> None:
        log.info("another launch asked for the window; bringing it forward")
        if self.window is not None:
            self.window.bring_to_front()

    def _on_sign_in_requested(self, server_id: str, scopes: list[str]) -> None:
        """An `mcp-auth bridge` found no usable token (or too few scopes): sign in here, as if
        the user had chosen Sign in. One sign-in per server at a time (ManagerBridge)."""
        if self.bridge is None or self.bridge.get(server_id) is None:
            log.info("a bridge asked to sign in to an unknown server; ignored")
            return
        log.info("a bridge asked to sign in to %s", server_id)
        if self.window is not None:
            self.window.bring_to_front()
        self.bridge.sign_in(server_id, scopes=tuple(scopes))

    def _tray_shown(self) -> bool:
        return self.tray is not None and self.tray.isVisible()

    def _keep_in_tray(self) -> bool:
        keep = self._tray_shown()
        if keep and not self._told_about_tray and self.tray is not None:
            self._told_about_tray = True
            self.tray.showMessage("MCP Auth Desktop", "Still running in the tray; tokens stay fresh.",
                                  QSystemTrayIcon.MessageIcon.Information, 4000)
        return keep

    def _on_settings_submitted(self, settings: GuiSettings) -> None:
        if self.bridge is not None:
            self.bridge.spawn(self._apply_settings(settings))

    async def _apply_settings(self, settings: GuiSettings) -> None:
        assert self.preferences is not None and self.window is not None
        try:
            if settings.start_at_login:
                autostart.enable()
            else:
                autostart.disable()
            await self.preferences.save(settings)
        except (OSError, McpAuthError) as exc:
            text = exc.user_message if isinstance(exc, McpAuthError) else str(exc)
            self.window.show_error("Settings not saved", f"The settings could not be saved: {text}")
            return
        self.window.apply_settings(settings)

    # ------------------------------------------------------------ shutdown

    async def shutdown(self) -> None:
        """Ordered and idempotent: widgets, GUI tasks, manager, HTTP, vault, demo server."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.damage is not None:
            self.damage.stop()
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.save_layout()  # quitting from the tray closes no window
            self.window.model.stop()
            self.window.bridge_counter.stop()
            self.window.hide()
        if self.clipboard is not None:
            self.clipboard.clear_if_ours()
        closers: list[tuple[str, Callable[[], Awaitable[Any]] | None]] = [
            ("bridge", self.bridge.aclose if self.bridge else None),
            ("manager", self.manager.aclose if self.manager else None),
            ("http client", self.http.aclose if self.http else None),
            ("vault", self.vault.aclose if self.vault else None),
            ("demo server", self.demo.stop if self.demo else None),
        ]
        for name, close in closers:
            if close is None:
                continue
            try:
                await asyncio.wait_for(close(), 10.0)
            except (Exception, asyncio.CancelledError):
                log.exception("closing the %s failed", name)
        if self.instance is not None:
            self.instance.close()
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals.clear()
        self.errors.restore()

    def _open_in_browser(self, url: str) -> None:
        open_in_browser(url, self.bridge.spawn if self.bridge is not None else None)

    def _can_ask(self) -> bool:
        """Whether someone can answer a question: not a benchmark run, not offscreen."""
        return not self.args.exit_after_start and QGuiApplication.platformName() != "offscreen"


def _token_manager() -> ManagerFactory[ManagerLike]:
    skip_httpx_command_line()  # the manager imports httpx: not its command line too
    from mcp_auth_desktop.core.manager import TokenManager

    return TokenManager
