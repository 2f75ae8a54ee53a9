"""The composition root: start, single instance, quit order, error hook, demo."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.app import READY_MARKER, DesktopApp, build_parser
from tests.gui.conftest import run, settle, started, until
from tests.gui.fakes import FakeManager

REPO = Path(__file__).resolve().parents[2]


def make_app(qapp: Any, *argv: str, manager: Any = None, **kw: Any) -> tuple[DesktopApp, list[Any]]:
    made: list[Any] = []

    def factory(**deps: Any) -> Any:
        made.append(deps)
        return manager

    desktop = DesktopApp(qapp, build_parser().parse_args(list(argv)),
                         manager_factory=factory if manager is not None else None,
                         http_factory=lambda: httpx.AsyncClient(), **kw)
    return desktop, made


def test_start_then_quit_closes_everything_in_order(qapp: Any, loop: Any) -> None:
    manager = FakeManager()
    manager.seed(2)
    desktop, deps = make_app(qapp, "--ephemeral", manager=manager)

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: started(desktop), what="window")
        assert desktop.tray is not None and desktop.tray.isVisible()
        assert desktop.window.model.rowCount() == 2
        assert "in memory only" in desktop.window.storage_label.text()
        assert deps[0]["vault"].location.key_source == "memory"
        desktop.window.close()  # a tray exists: closing only hides
        await asyncio.sleep(0.05)
        assert not task.done() and not desktop.window.isVisible()
        desktop.tray.menu.aboutToShow.emit()
        next(a for a in desktop.tray.menu.actions() if a.text() == "Quit").trigger()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario()) == 0
    assert manager.closed
    assert desktop.http.is_closed
    assert not desktop.tray.isVisible()
    assert desktop.bridge is not None and desktop.bridge.task_count == 0


def test_excepthook_logs_and_shows_a_non_modal_error(qapp: Any, loop: Any, caplog: Any) -> None:
    desktop, _ = make_app(qapp, "--ephemeral", manager=FakeManager())

    async def scenario() -> None:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: started(desktop))
        try:
            raise ValueError("boom Bearer abcdefghijklmnopqrstu")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        box = desktop.window.error_box
        assert box is not None and box.isVisible() and not box.isModal()
        assert "boom" in box.text() and "abcdefghijklmnopqrstu" not in box.text()
        desktop.request_quit()
        await task

    with caplog.at_level(logging.ERROR):
        run(loop, scenario())
    assert any("unexpected error" in r.getMessage() for r in caplog.records)
    assert sys.excepthook != desktop.errors.on_uncaught  # restored at shutdown


def _launch(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mcp_auth_desktop", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def test_second_launch_brings_the_first_forward_and_sigterm_quits(tmp_path: Path) -> None:
    first = _launch("--ephemeral", "-v")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(first.stderr), daemon=True)
    reader.start()
    second: subprocess.Popen[str] | None = None
    try:
        deadline = time.monotonic() + 30
        while not any("ready in" in line for line in list(lines)):
            assert time.monotonic() < deadline and first.poll() is None, "".join(lines)
            time.sleep(0.05)
        second = _launch("--ephemeral")
        out, _ = second.communicate(timeout=30)
        assert second.returncode == 0
        assert "already running" in out
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0
        reader.join(10)
        assert any("asked for the window; bringing it forward" in line for line in lines)
    finally:
        for proc in (second, first):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
        first.stdout.close()
        first.stderr.close()


def test_exit_after_start_reports_the_tray(tmp_path: Path) -> None:
    proc = _launch("--ephemeral", "--exit-after-start")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    line = next(line for line in out.splitlines() if line.startswith(READY_MARKER))
    assert "tray=1" in line and "servers=0" in line


@pytest.mark.e2e
def test_demo_starts_the_mock_server_signs_in_and_stops_it(qapp: Any, loop: Any) -> None:
    from mcp_auth_desktop.gui.self_test import HeadlessBrowser

    browser_http = httpx.AsyncClient(timeout=10)
    browser = HeadlessBrowser(browser_http)
    desktop, _ = make_app(
        qapp, "--demo",
        url_opener=lambda url: desktop.bridge.spawn(browser.open(url)) and None,
        demo_command=[sys.executable, "-m", "mock_server", "--port", "0", "--auto-approve"],
    )

    async def scenario() -> None:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: started(desktop) and desktop.window.model.rowCount() == 1,
                    within=30, what="demo server listed")
        assert desktop.demo is not None and desktop.demo.running
        view = desktop.window.model.view_at(0)
        assert view.name == "Demo MCP server" and view.url.startswith("http://127.0.0.1:")
        await until(lambda: desktop.window.selected_view() is not None
                    and desktop.window.selected_view().state is ServerState.NEEDS_SIGN_IN)
        desktop.window.act_sign_in.trigger()
        await until(lambda: desktop.window.selected_view().state is ServerState.SIGNED_IN,
                    within=30, what=f"signed in {browser.errors}")
        assert await desktop.actions.copy_token(view.id)
        pid = desktop.demo.pid
        desktop.request_quit()
        assert await task == 0
        assert pid is not None and not desktop.demo.running
        await browser_http.aclose()

    run(loop, scenario(), timeout=90)


def _visible_passphrase_dialog() -> Any:
    from PySide6.QtWidgets import QApplication

    from mcp_auth_desktop.gui.passphrase_dialog import PassphraseDialog

    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, PassphraseDialog) and w.isVisible()]
    return found[0] if found else None


@pytest.mark.slow
def test_passphrase_vault_asks_without_blocking_and_retries_a_wrong_one(
        qapp: Any, loop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.delenv("MCP_AUTH_DESKTOP_PASSPHRASE", raising=False)

    async def start_with(*answers: str) -> tuple[DesktopApp, list[Any], list[str]]:
        desktop, deps = make_app(qapp, manager=FakeManager())
        task = asyncio.ensure_future(desktop.run())
        errors = []
        for answer in answers:
            await until(lambda: _visible_passphrase_dialog() is not None, within=10, what="dialog")
            dialog = _visible_passphrase_dialog()
            errors.append(dialog.error.text())
            dialog.passphrase.setText(answer)
            dialog.repeat.setText(answer)
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            await asyncio.sleep(0)
        await until(lambda: started(desktop), within=30, what="window")
        desktop.request_quit()
        assert await task == 0
        return desktop, deps, errors

    async def scenario() -> None:
        _, deps, errors = await start_with("correct horse battery")
        assert deps[0]["vault"].location.key_source == "passphrase"
        assert errors == [""]
        # Next start: the wrong passphrase is refused with a message, then the right one works.
        _, deps, errors = await start_with("wrong passphrase!", "correct horse battery")
        assert errors[0] == "" and "did not unlock" in errors[1]
        assert deps[0]["vault"].location.key_source == "passphrase"

    run(loop, scenario(), timeout=90)


def test_without_a_tray_closing_the_window_quits(qapp: Any, loop: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    manager = FakeManager()
    desktop, _ = make_app(qapp, "--ephemeral", manager=manager)

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: started(desktop))
        assert desktop.tray is None
        desktop.window.close()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario()) == 0
    assert manager.closed


def test_settings_dialog_saves_and_writes_the_autostart_entry(qapp: Any, loop: Any) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from mcp_auth_desktop.gui import autostart

    desktop, deps = make_app(qapp, "--ephemeral", manager=FakeManager())

    async def scenario() -> None:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: started(desktop))
        dialog = desktop.window.open_settings()
        dialog.start_at_login.setChecked(True)
        dialog.clipboard_delay.setValue(7)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await until(autostart.is_enabled, what="autostart entry")
        doc = await deps[0]["settings"].load()
        assert doc["gui"]["clipboard_clear_seconds"] == 7 and doc["gui"]["start_at_login"] is True
        assert desktop.preferences.current.clipboard_clear_seconds == 7
        dialog = desktop.window.open_settings()
        assert dialog.clipboard_delay.value() == 7
        dialog.start_at_login.setChecked(False)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await until(lambda: not autostart.is_enabled(), what="autostart removed")
        desktop.request_quit()
        await task

    run(loop, scenario())


def _visible_box(title_part: str) -> Any:
    from PySide6.QtWidgets import QApplication, QMessageBox

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible() and title_part in widget.windowTitle():
            return widget
    return None


def _unreachable_keyring(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[float]:
    """open_storage_async fails ``failures`` times as with a locked keyring, then works."""
    import mcp_auth_desktop.storage as storage
    from mcp_auth_desktop.storage import KeyringVaultUnavailableError
    from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault

    calls: list[float] = []

    async def flaky(**kwargs: Any) -> Any:
        calls.append(kwargs["keyring_timeout"])
        if len(calls) <= failures:
            raise KeyringVaultUnavailableError(
                "The keyring did not answer. A passphrase cannot open it: make the keyring "
                "available.")
        return MemoryVault(), MemorySettings()

    monkeypatch.setattr(storage, "open_storage_async", flaky)
    return calls


def _shown_while_locked(desktop: DesktopApp, made: list[Any], box: Any) -> None:
    """The first frame is not held back by the keyring (issue 17): the window and the tray
    are up from the settings while ``box`` (the keyring's question or wait notice) sits
    non-modal on top of the window, and nothing is unlocked behind it."""
    from PySide6.QtCore import Qt

    assert desktop.window is not None and desktop.window.isVisible()
    assert desktop.tray is not None and desktop.tray.isVisible()
    assert box.parent() is desktop.window
    assert box.windowModality() == Qt.WindowModality.NonModal
    assert desktop.vault is None and desktop.manager is None and made == []
    assert desktop.startup_seconds is None
    assert "still locked" in desktop.window.storage_label.toolTip()


@pytest.mark.allow_warning_logs
def test_keyring_vault_unreachable_offers_try_again_not_a_passphrase(
        qapp: Any, loop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _unreachable_keyring(monkeypatch, failures=2)
    desktop, made = make_app(qapp, manager=FakeManager())

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        for attempt in (1, 2):
            await until(lambda: desktop.unlock.keyring_box is not None and desktop.unlock.keyring_box.isVisible(),
                        within=10, what="keyring box")
            box = desktop.unlock.keyring_box
            assert len(calls) == attempt
            assert "make the keyring available" in box.text() and "Try again" in box.text()
            assert _visible_passphrase_dialog() is None  # a passphrase cannot help here
            _shown_while_locked(desktop, made, box)
            retry = next(b for b in box.buttons() if b.text() == "Try again")
            retry.click()
            await until(lambda b=box: desktop.unlock.keyring_box is not b, within=5, what="box closed")
        # The third try finds the keyring: the app starts as usual.
        await until(lambda: started(desktop), within=10,
                    what="window")
        desktop.request_quit()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario(), timeout=60) == 0
    assert len(calls) == 3
    assert all(t >= 30 for t in calls)  # time to answer a Secret Service unlock prompt


def test_a_slow_keyring_shows_what_the_app_waits_for(
        qapp: Any, loop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import mcp_auth_desktop.gui.vault_unlock as app_module
    import mcp_auth_desktop.storage as storage
    from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault

    unlocked = asyncio.Event()
    timeouts: list[float] = []

    async def slow(**kwargs: Any) -> Any:
        timeouts.append(kwargs["keyring_timeout"])
        await unlocked.wait()  # the user is answering the keyring's unlock prompt
        return MemoryVault(), MemorySettings()

    monkeypatch.setattr(storage, "open_storage_async", slow)
    monkeypatch.setattr(app_module, "KEYRING_NOTICE_DELAY_MS", 50)
    desktop, made = make_app(qapp, manager=FakeManager())

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: desktop.unlock.keyring_wait_box is not None
                    and desktop.unlock.keyring_wait_box.isVisible(), within=5, what="waiting notice")
        assert "keyring" in desktop.unlock.keyring_wait_box.text()
        _shown_while_locked(desktop, made, desktop.unlock.keyring_wait_box)
        assert "keyring" in desktop.window.statusBar().currentMessage()
        assert not task.done()
        unlocked.set()
        await until(lambda: started(desktop), within=10,
                    what="window")
        assert desktop.unlock.keyring_wait_box is None
        desktop.request_quit()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario(), timeout=30) == 0
    assert timeouts == [app_module.KEYRING_TIMEOUT] and app_module.KEYRING_TIMEOUT >= 30


@pytest.mark.allow_warning_logs
def test_keyring_vault_unreachable_quit_leaves_without_asking_more(
        qapp: Any, loop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _unreachable_keyring(monkeypatch, failures=99)
    desktop, made = make_app(qapp, manager=FakeManager())

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: desktop.unlock.keyring_box is not None and desktop.unlock.keyring_box.isVisible(),
                    within=10, what="keyring box")
        _shown_while_locked(desktop, made, desktop.unlock.keyring_box)
        quit_button = next(b for b in desktop.unlock.keyring_box.buttons() if b.text() == "Quit")
        quit_button.click()
        code = await asyncio.wait_for(task, 10)
        assert _visible_box("cannot start") is None  # already told; no second box
        assert _visible_passphrase_dialog() is None
        return code

    assert run(loop, scenario(), timeout=60) == 1
    assert len(calls) == 1 and made == [] and desktop.vault is None
    assert desktop.window is not None and not desktop.window.isVisible()  # closed on quit
    assert desktop.tray is not None and not desktop.tray.isVisible()


def _passphrase_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(home))
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", "correct horse battery")
    return home


def _damage_box_text(desktop: DesktopApp) -> str:
    box = desktop.damage_box
    return box.text() if box is not None and box.isVisible() else ""


@pytest.mark.allow_warning_logs
def test_a_damaged_vault_is_reported_with_where_it_was_moved(
        qapp: Any, loop: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    home = _passphrase_home(tmp_path, monkeypatch)
    vault_file = home / "vault.bin"  # where the vault lives under MCP_AUTH_DESKTOP_HOME
    vault_file.write_bytes(b"\x00garbage, not a vault\xff" * 10)
    vault_file.chmod(0o600)

    desktop, _ = make_app(qapp, manager=FakeManager())

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: ".corrupt-" in _damage_box_text(desktop), within=30,
                    what="damage report")
        text = _damage_box_text(desktop)
        assert "secret vault could not be read" in text and ".corrupt-" in text
        assert "sign in" in desktop.damage_box.informativeText()
        assert not desktop.damage_box.isModal()
        desktop.request_quit()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario(), timeout=60) == 0
    assert list(vault_file.parent.glob("vault.bin.corrupt-*"))


@pytest.mark.allow_warning_logs
def test_damage_found_mid_session_is_reported_once_each(
        qapp: Any, loop: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from mcp_auth_desktop.core.errors import VaultCorruptError
    from mcp_auth_desktop.core.events import LogEvent

    home = _passphrase_home(tmp_path, monkeypatch)
    manager = FakeManager()
    desktop, _ = make_app(qapp, manager=manager)
    moved_files: list[str] = []

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: started(desktop), within=30,
                    what="window")
        assert desktop.damage_box is None  # nothing damaged at start
        vault, window = desktop.vault, desktop.window
        await vault.put("clients/x", {"client_id": "x"})
        # Another program (or a disk error) damages the vault while the app runs.
        (home / "vault.bin").write_bytes(b"not a vault any more" * 20)
        with pytest.raises(VaultCorruptError):
            await vault.get("clients/x")  # what a background refresh would meet, and log
        manager.emit(LogEvent("", time.time(), level="warning", message="refresh failed"))
        await until(lambda: "secret vault could not be read" in _damage_box_text(desktop), within=5,
                    what="mid-session report")
        moved = vault.corruption.moved_to
        assert moved and moved in _damage_box_text(desktop)
        moved_files.append(moved)
        assert any("secret vault could not be read" in line for line in window.log_view.lines())
        assert "sign in again" in window.statusBar().currentMessage()
        # Reported once: later reads and events do not repeat it.
        assert await vault.get("clients/x") is None
        manager.emit(LogEvent("", time.time(), level="info", message="again"))
        await settle(100)
        assert _damage_box_text(desktop).count("secret vault") == 1
        # The settings file next: the same box says so too (found by the slow timer).
        (home / "settings.json").write_bytes(b"{not json")
        with pytest.raises(VaultCorruptError):
            await desktop.settings.load()
        await until(lambda: "settings file could not be read" in _damage_box_text(desktop), within=5,
                    what="settings report")
        desktop.request_quit()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario(), timeout=60) == 0
    assert [Path(m).exists() for m in moved_files] == [True]


def test_version_flags(capsys: pytest.CaptureFixture[str]) -> None:
    from mcp_auth_desktop import __version__
    from mcp_auth_desktop.cli.main import build_parser as cli_parser

    for parser, prog in ((build_parser(), "mcp-auth-desktop"), (cli_parser(), "mcp-auth")):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(["--version"])
        assert info.value.code == 0
        assert capsys.readouterr().out.strip() == f"{prog} {__version__}"


def test_the_app_keeps_an_audit_trail_of_events_and_copies(
        qapp: Any, loop: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import json

    from mcp_auth_desktop.core.events import StateChanged
    from mcp_auth_desktop.core.state import ServerState

    home = tmp_path / "home"
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(home))
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", "correct horse battery")
    manager = FakeManager()
    sid = manager.seed(1)[0]
    desktop, _ = make_app(qapp, manager=manager)

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: desktop.actions is not None and started(desktop), within=30)
        manager.emit(StateChanged(sid, 1.0, old=ServerState.SIGNING_IN, new=ServerState.SIGNED_IN))
        desktop.actions.tokenCopied.emit(sid)
        await settle()
        desktop.request_quit()
        return await asyncio.wait_for(task, 10)

    assert run(loop, scenario(), timeout=60) == 0
    entries = [json.loads(line) for line in (home / "audit.log").read_text().splitlines()]
    assert {"StateChanged", "Note"} <= {e["event"] for e in entries}
    assert any(e.get("message") == "access token copied" for e in entries)
