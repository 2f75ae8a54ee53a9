"""Composition root of the desktop app: ``mcp-auth-desktop``.

Builds, in order: the QApplication, the single-instance guard, the qasync
event loop, storage (asking for a passphrase if no keyring can hold the
vault key), the runtime (``mcp_auth_desktop.runtime``: the shared HTTP client
and the TokenManager, wired as the CLI and the self-test wire them), the
bridge, the window and the tray. Quitting runs the same steps backwards:
cancel the GUI's tasks, close the manager, the HTTP client and the vault,
stop the demo server. Nothing else in the GUI constructs a collaborator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from mcp_auth_desktop import __version__
from mcp_auth_desktop.core.childenv import withhold_secrets_from_children
from mcp_auth_desktop.core.errors import (
    KeyringUnavailableError,
    McpAuthError,
    VaultLockedError,
)
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.ports import ManagerLike, SecretVault, SettingsStore
from mcp_auth_desktop.core.safetext import SafeFormatter
from mcp_auth_desktop.gui import autostart
from mcp_auth_desktop.gui.actions import ServerActions
from mcp_auth_desktop.gui.bridge import AddServerRequest, ManagerBridge
from mcp_auth_desktop.gui.clipboard import SecretClipboard
from mcp_auth_desktop.gui.gc_guard import GuiThreadCollector
from mcp_auth_desktop.gui.icons import app_icon
from mcp_auth_desktop.gui.main_window import MainWindow
from mcp_auth_desktop.gui.plain import message_box, set_box_informative, set_box_text
from mcp_auth_desktop.gui.preferences import GuiSettings, Preferences
from mcp_auth_desktop.gui.preview import SettingsPreview
from mcp_auth_desktop.gui.qt_app import make_qapplication
from mcp_auth_desktop.gui.redact import Redactor
from mcp_auth_desktop.gui.single_instance import SingleInstance
from mcp_auth_desktop.gui.tray import TrayIcon
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

    from mcp_auth_desktop.gui.damage_notice import DamageWatch
    from mcp_auth_desktop.gui.demo import DemoServer

__all__ = ["main", "build_parser", "make_qapplication", "DesktopApp", "StartCancelled"]

log = logging.getLogger(__name__)

DEMO_NAME = "Demo MCP server"
#: Seconds a keyring call may take: long enough to answer an unlock prompt.
KEYRING_TIMEOUT = 45.0
#: After this long opening storage, say what the app is waiting for.
KEYRING_NOTICE_DELAY_MS = 1500
READY_MARKER = "MCP-AUTH-DESKTOP-READY"
#: Printed (with --exit-after-start) once the window and the tray are first shown.
FIRST_FRAME_MARKER = "MCP-AUTH-DESKTOP-FIRST-FRAME"


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


class StartCancelled(Exception):
    """The user chose to quit from a question asked while starting (already told why)."""


class DesktopApp:
    """Owns every long-lived object of one run and shuts them down in order."""

    def __init__(self, qapp: QApplication, args: argparse.Namespace, *,
                 instance: SingleInstance | None = None, redactor: Redactor | None = None,
                 manager_factory: ManagerFactory[ManagerLike] | None = None,
                 http_factory: Callable[[], httpx.AsyncClient] | None = None,
                 url_opener: Callable[[str], None] | None = None,
                 demo_command: list[str] | None = None) -> None:
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
        self.tray: TrayIcon | None = None
        self.demo: DemoServer | None = None
        self._quit: asyncio.Event | None = None
        self._shut_down = False
        self._told_about_tray = False
        self._saved_hook: Callable[..., Any] | None = None
        self.startup_seconds: float | None = None
        #: Until the window and the tray were first shown (from the settings alone).
        self.first_frame_seconds: float | None = None
        #: The "keyring unavailable, try again?" box while it is up (tests look at it).
        self.keyring_box: QMessageBox | None = None
        #: "Waiting for the system keyring" while storage takes long to open.
        self.keyring_wait_box: QMessageBox | None = None
        self.damage: DamageWatch | None = None
        #: The "damaged storage file" box while it is up.
        self.damage_box: QMessageBox | None = None

    # ------------------------------------------------------------------ run

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._quit = asyncio.Event()
        loop.set_exception_handler(self._on_loop_exception)
        self._install_excepthook()
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
                await self._fatal(exc.user_message)
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

    async def start(self) -> None:
        """The settings, the first frame from them alone, then the vault, then the runtime.

        The window and the tray are shown from the non-secret settings
        (:class:`SettingsPreview`) before the vault is opened (the keyring may wait for
        its unlock prompt; the app says so on top of the window) and before the HTTP
        stack and the manager are even imported; the bridge then hands every row over to
        the real manager. Nothing that needs a token works until then.
        """
        t0 = time.perf_counter()
        ephemeral: Storage | None = None
        if self.args.ephemeral or self.args.demo:
            ephemeral = await open_storage(ephemeral=True)
            settings = ephemeral[1]
        else:
            settings = open_settings()  # no keyring, no cipher: a folder check and a file
        self.settings = settings
        self.preferences = Preferences(settings)
        await self.preferences.load()
        preview = SettingsPreview(await settings.load(),
                                  ephemeral[0].location if ephemeral else None)
        self.bridge = ManagerBridge(preview, loop=asyncio.get_running_loop(),
                                    redactor=self.redactor,
                                    url_opener=self._url_opener or self._open_in_browser)
        self.bridge.start()
        self.clipboard = SecretClipboard()
        self.actions = ServerActions(self.bridge, self.clipboard, self.preferences)
        self.window = MainWindow(self.bridge, self.actions, self.preferences,
                                 keep_running_in_tray=self._keep_in_tray, on_quit=self.request_quit,
                                 layout_file=None if ephemeral else _layout_file())
        self.window.settingsSubmitted.connect(self._on_settings_submitted)
        tray_ok = QSystemTrayIcon.isSystemTrayAvailable()
        if tray_ok:
            self.tray = TrayIcon(self.bridge, self.actions, self.preferences,
                                 on_open=self.window.bring_to_front, on_quit=self.request_quit)
            self.tray.show()
        else:
            log.info("no system tray: closing the window quits the app")
            self.bridge.notify.connect(
                lambda _kind, title, text: self.window.show_message(f"{title}: {text}")
                if self.window else None)
        if self.instance is not None:
            self.instance.showRequested.connect(self._on_show_requested)
            self.instance.signInRequested.connect(self._on_sign_in_requested)
        if not (self.args.hidden and tray_ok):
            self.window.show()
        await asyncio.sleep(0)  # let the tray icon and the window be shown
        self.first_frame_seconds = time.perf_counter() - t0
        if self.args.exit_after_start:
            # Which of the deferred parts were loaded by then (bench/bench_gui.py, tests).
            loaded = {name: int(module in sys.modules) for name, module in (
                ("httpx", "httpx"), ("manager", "mcp_auth_desktop.core.manager"),
                ("cryptography", "cryptography"), ("keyring", "keyring"))}
            print(f"{FIRST_FRAME_MARKER} servers={len(preview.servers())} "
                  f"tray={int(self.tray is not None and self.tray.isVisible())} "
                  + " ".join(f"{k}={v}" for k, v in loaded.items()), flush=True)
        # What the first frame did not need: the vault (the keyring), the HTTP stack, the
        # manager, every token. The settings stay the one store the window already uses.
        vault = ephemeral[0] if ephemeral else await self._open_vault()
        self.vault = vault
        try:
            runtime = await open_runtime(
                storage=(vault, settings), http=self._http_factory() if self._http_factory else None,
                manager_factory=self._manager_factory or _token_manager(),
                audit=not (self.args.ephemeral or self.args.demo))
        except BaseException:
            self.vault = None  # open_runtime closed it
            raise
        self.runtime = runtime
        self.http, self.manager = runtime.http, runtime.manager
        manager = runtime.manager
        self.bridge.attach(manager)
        self.window.show_storage()
        if self.tray is not None:
            self.tray.rebuild_menu()  # the real manager's servers, for hosts that never ask
        if runtime.audit is not None:
            audit = runtime.audit
            self.actions.tokenCopied.connect(lambda sid: audit.note(sid, "access token copied"))
        self._watch_for_damage(manager)
        if self.args.demo:
            await self._start_demo()
        await asyncio.sleep(0)
        self.startup_seconds = time.perf_counter() - t0
        log.info("ready in %.2f s: %d server(s), tray %s", self.startup_seconds,
                 len(manager.servers()), "shown" if self.tray is not None else "unavailable")
        if self.args.exit_after_start:
            print(f"{READY_MARKER} servers={len(manager.servers())} rss_kb={_rss_kb()} "
                  f"tray={int(self.tray is not None and self.tray.isVisible())}", flush=True)

    def _watch_for_damage(self, manager: ManagerLike) -> None:
        """Report damaged storage files found at start and later, each once."""
        assert self.bridge is not None
        from mcp_auth_desktop.gui.damage_notice import DamageWatch

        self.damage = DamageWatch([("token vault", self.vault), ("settings file", self.settings)],
                                  parent=self.qapp)
        self.damage.damaged.connect(self._on_damage)
        # A damaged file is found by a read: look right after anything that read.
        manager.subscribe(lambda _event: QTimer.singleShot(0, self._check_damage))
        self.bridge.actionFailed.connect(lambda *_: self._check_damage())
        self.damage.check()
        self.damage.start()

    def _check_damage(self) -> None:
        if self.damage is not None and not self._shut_down:
            self.damage.check()

    def _on_damage(self, text: str) -> None:
        assert self.window is not None
        log.warning("%s", text)
        self.window.log_view.on_log_line(time.time(), "warning", text)
        self.window.show_message("A damaged storage file was moved aside; affected servers need "
                                 "to sign in again.")
        box = self.damage_box
        if box is None:
            box = message_box(QMessageBox.Icon.Warning, "Damaged storage file", "",
                              QMessageBox.StandardButton.Ok, self.window)
            box.setWindowModality(Qt.WindowModality.NonModal)
            set_box_informative(box,
                "Servers whose sign-in was lost show \u201csign-in needed\u201d: sign in to "
                "them again. The moved file is kept for you to inspect or delete.")
            box.finished.connect(self._on_damage_box_finished)
            self.damage_box = box
            set_box_text(box, text)
            box.show()  # non-modal: the app keeps working behind it
        else:
            set_box_text(box, box.text() + "\n\n" + text)

    def _on_damage_box_finished(self, _result: int) -> None:
        box, self.damage_box = self.damage_box, None
        if box is not None:
            box.deleteLater()

    async def _open_vault(self) -> SecretVault:
        """The user's vault, asking to retry the keyring or for a passphrase as needed."""
        from mcp_auth_desktop.storage import KeyringVaultUnavailableError

        answer: str | None = None
        error = ""
        while True:
            try:
                provider = (lambda a=answer: a) if answer is not None else None
                # A Secret Service may show an unlock prompt; give the user time to answer it
                # (the loop keeps running meanwhile, so the app stays responsive).
                with self._keyring_wait_notice():
                    vault, _same_settings_file = await open_storage(
                        passphrase_provider=provider, keyring_timeout=KEYRING_TIMEOUT
                    )
                    return vault
            except KeyringVaultUnavailableError as exc:
                # The vault's key is in the keyring: no passphrase can open it, so none is
                # asked for. The user can unlock or start the keyring and try again.
                log.warning("the vault's keyring is unavailable: %s", exc.message)
                if not self._can_ask():
                    raise
                if not await self._ask_keyring_retry(exc.user_message):
                    raise StartCancelled("the keyring stayed unavailable; quit") from None
                continue
            except (KeyringUnavailableError, VaultLockedError) as exc:
                new_vault = isinstance(exc, KeyringUnavailableError)
                if answer is not None:
                    error = "That passphrase did not unlock your tokens. Try again."
                message = (
                    "No system keyring is available to protect your tokens. Choose a passphrase: "
                    "your tokens are encrypted with a key derived from it, and you will be asked "
                    "for it at every start."
                    if new_vault
                    else "Your tokens are encrypted with your passphrase. Enter it to unlock them."
                )
                from mcp_auth_desktop.gui.passphrase_dialog import ask_passphrase

                answer = await ask_passphrase(message, confirm=new_vault, error=error,
                                              parent=self.window)
                if answer is None:
                    raise VaultLockedError(
                        "No passphrase was given, so your tokens stay locked. Start the app again "
                        "to enter it, or use --ephemeral to try the app without saving anything."
                    ) from None

    @contextlib.contextmanager
    def _keyring_wait_notice(self) -> Iterator[None]:
        """While the vault opens: after a moment, say that the app waits for the keyring.

        The window is already up from the settings, but the keyring may wait for its own
        unlock prompt (up to KEYRING_TIMEOUT) and nothing that needs a token works until
        then: without this the app would look stuck. The box (non-modal, on top of the
        window) is built only then: a start that opens the vault in time never pays for it.
        """
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(self._show_keyring_wait_notice)
        if self._can_ask():
            timer.start(KEYRING_NOTICE_DELAY_MS)
        try:
            yield
        finally:
            timer.stop()
            box, self.keyring_wait_box = self.keyring_wait_box, None
            if box is not None:
                box.hide()
                box.deleteLater()

    def _show_keyring_wait_notice(self) -> None:
        box = message_box(QMessageBox.Icon.Information, "MCP Auth Desktop",
                          "Waiting for the system keyring to unlock your tokens…\n\n"
                          "If it asks for your password, answer its prompt.",
                          QMessageBox.StandardButton.NoButton, self.window)
        box.setWindowModality(Qt.WindowModality.NonModal)
        if self.window is not None:
            self.window.show_message("Waiting for the system keyring to unlock your tokens…")
        box.setWindowIcon(app_icon())
        self.keyring_wait_box = box
        box.show()

    def _can_ask(self) -> bool:
        """Whether someone can answer a question: not a benchmark run, not offscreen."""
        return not self.args.exit_after_start and QGuiApplication.platformName() != "offscreen"

    async def _ask_keyring_retry(self, text: str) -> bool:
        """Explain that the keyring holding the vault key is unreachable; True to try again.

        Non-modal, on top of the window shown from the settings: the event loop and the
        window keep running while it is up, and nothing is unlocked until it is answered.
        """
        box = message_box(QMessageBox.Icon.Warning, "Your tokens are locked in the keyring",
                          text + "\n\nUnlock your keyring (or log in to it), then choose "
                          "Try again. Quit leaves everything as it is.",
                          QMessageBox.StandardButton.NoButton, self.window)
        box.setWindowModality(Qt.WindowModality.NonModal)
        retry = box.addButton("Try again", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(retry)
        box.setWindowIcon(app_icon())
        self.keyring_box = box
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_finished(_result: int) -> None:
            if not done.done():
                done.set_result(box.clickedButton() is retry)

        box.finished.connect(on_finished)
        box.show()
        try:
            return await done
        finally:
            self.keyring_box = None
            box.deleteLater()

    async def _start_demo(self) -> None:
        assert self.bridge is not None and self.window is not None
        from mcp_auth_desktop.gui.demo import DemoServer

        self.demo = DemoServer(self._demo_command)
        self.window.show_message("Starting the demo server…")
        try:
            url = await self.demo.start()
        except McpAuthError as exc:
            self.window.show_error("Demo server", exc.user_message)
            return
        except TimeoutError:
            self.window.show_error("Demo server", "The demo server did not start in time.")
            return
        request = AddServerRequest(url=url, name=DEMO_NAME,
                                   options=ServerOptions(allow_insecure_loopback=True))
        view = await self.bridge.add_server(request)
        if view is not None:
            self.window.select_server(view.id)
            self.window.show_message(f"Demo server running at {url}: choose Sign in to try it.")

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

    def _keep_in_tray(self) -> bool:
        keep = self.tray is not None and self.tray.isVisible()
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
        if self._saved_hook is not None:
            sys.excepthook = self._saved_hook
            self._saved_hook = None

    def _open_in_browser(self, url: str) -> None:
        """The system browser (honouring $BROWSER via core.browser when it exists)."""
        try:
            browser = importlib.import_module("mcp_auth_desktop.core.browser").SystemBrowser()
        except (ImportError, AttributeError):
            _open_with_qt(url)
            return
        if self.bridge is not None:
            self.bridge.spawn(self._open_with(browser, url))

    async def _open_with(self, browser: Any, url: str) -> None:
        try:
            await browser.open(url)
        except (McpAuthError, OSError) as exc:
            log.info("could not start the browser (%s); trying the desktop's default", exc)
            _open_with_qt(url)

    # ------------------------------------------------------------ errors

    def _install_excepthook(self) -> None:
        self._saved_hook = sys.excepthook
        sys.excepthook = self._on_uncaught

    def _on_uncaught(self, etype: type[BaseException], value: BaseException,
                     tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(etype, value, tb))
        self._show_unexpected(f"{etype.__name__}: {self.redactor(str(value))}")

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = context.get("message", "unexpected error in a background task")
        log.error("%s", message, exc_info=exc if isinstance(exc, BaseException) else None)
        self._show_unexpected(
            f"{type(exc).__name__}: {self.redactor(str(exc))}" if exc is not None else message)

    def _show_unexpected(self, text: str) -> None:
        if self.window is not None:
            self.window.show_error("Unexpected error",
                                   f"Something unexpected went wrong: {text}\n"
                                   "The app keeps running; details are in the log.")

    async def _fatal(self, text: str) -> None:
        log.error("cannot start: %s", text)
        box = message_box(QMessageBox.Icon.Critical, "MCP Auth Desktop cannot start", text,
                          QMessageBox.StandardButton.Close)
        done = asyncio.get_running_loop().create_future()
        if not self._can_ask():
            return

        def on_finished(_result: int) -> None:
            if not done.done():
                done.set_result(None)

        box.finished.connect(on_finished)
        box.open()
        await done


def _token_manager() -> ManagerFactory[ManagerLike]:
    skip_httpx_command_line()  # the manager imports httpx: not its command line too
    from mcp_auth_desktop.core.manager import TokenManager

    return TokenManager


def _open_with_qt(url: str) -> None:
    from PySide6.QtCore import QUrl

    if not QDesktopServices.openUrl(QUrl(url)):
        log.info("could not open a browser; the sign-in link is in the details panel")


def _rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main(argv: list[str] | None = None) -> int:
    withhold_secrets_from_children()  # before anything can start a child (issue 15 #9)
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    redactor = Redactor()
    configure_logging(args.verbose, redactor)
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from mcp_auth_desktop.gui.self_test import run_self_test

        return int(run_self_test())

    import qasync

    app = make_qapplication([sys.argv[0]])
    instance = SingleInstance()
    if instance.ask_running_instance():
        print("MCP Auth Desktop is already running; its window was brought forward.")
        return 0
    if not instance.listen():
        log.info("could not claim the single-instance socket; running anyway")
    desktop = DesktopApp(app, args, instance=instance, redactor=redactor)
    collector = GuiThreadCollector(app)
    collector.start()
    # Python only sees Ctrl+C when it runs; a idle timer gives it the chance.
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
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


def _layout_file() -> Path:
    """The window layout beside the settings file (not kept for --ephemeral/--demo runs)."""
    from mcp_auth_desktop.storage.paths import app_paths

    return app_paths().config_dir / "window.ini"
