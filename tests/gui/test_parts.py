"""Small parts: redaction, autostart, preferences, passphrase dialog, single instance,
the settings dialog, the PySide6 workaround."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialogButtonBox

from mcp_auth_desktop.gui import autostart
from mcp_auth_desktop.gui.passphrase_dialog import PassphraseDialog, ask_passphrase
from mcp_auth_desktop.gui.preferences import GuiSettings, Preferences
from mcp_auth_desktop.gui.redact import MASK, Redactor
from mcp_auth_desktop.gui.settings_dialog import SettingsDialog
from mcp_auth_desktop.gui.single_instance import SingleInstance, instance_key
from mcp_auth_desktop.gui.validation import check_server_url
from mcp_auth_desktop.storage.memory import MemorySettings
from tests.gui.conftest import run


@pytest.mark.parametrize("text, secret", [
    ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ("GET /cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz", "SplxlOBeZQQYbYS6WxSbIA"),
    ('{"access_token": "2YotnFZFEjr1zCsicMWpAA", "x": 1}', "2YotnFZFEjr1zCsicMWpAA"),
    ("refresh_token=tGzv3JOkF0XG5Qx2TlKWIA", "tGzv3JOkF0XG5Qx2TlKWIA"),
    ("token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl", "eyJzdWIiOiJ1c2VyIn0"),
    ("opaque " + "A1b2" * 12, "A1b2" * 12),
])
def test_redactor_masks_secrets(text: str, secret: str) -> None:
    out = Redactor()(text)
    assert secret not in out and MASK in out


def test_redactor_keeps_urls_and_masks_remembered_tokens() -> None:
    r = Redactor()
    url = "https://auth.example.com/.well-known/oauth-authorization-server/tenant-1234567890"
    assert r(f"fetched {url}: 200") == f"fetched {url}: 200"
    r.remember("short-but-known-1")
    assert r("copied short-but-known-1 now") == f"copied {MASK} now"


def test_url_rules() -> None:
    assert check_server_url("https://mcp.example.com/mcp", allow_insecure_loopback=False) is None
    assert check_server_url("http://[::1]:9000/mcp", allow_insecure_loopback=True) is None
    assert check_server_url("http://10.0.0.1/mcp", allow_insecure_loopback=True)
    assert "user names" in (check_server_url("https://u:p@x.example/", allow_insecure_loopback=False) or "")
    assert "port" in (check_server_url("https://x.example:99999/", allow_insecure_loopback=False) or "")


def test_autostart_file_is_written_and_removed(tmp_path: Path) -> None:
    assert not autostart.is_enabled(tmp_path)
    path = autostart.enable(tmp_path, ["/opt/My Apps/mcp", "--hidden", "50%"])
    assert path == tmp_path / "autostart" / "mcp-auth-desktop.desktop"
    text = path.read_text()
    assert text.startswith("[Desktop Entry]\n")
    assert 'Exec="/opt/My Apps/mcp" --hidden 50%%' in text
    assert "Type=Application" in text and "X-GNOME-Autostart-enabled=true" in text
    # TryExec is a plain path: quotes would become part of the file name.
    assert "TryExec=/opt/My Apps/mcp\n" in text
    assert autostart.is_enabled(tmp_path)
    autostart.disable(tmp_path)
    assert not path.exists()
    autostart.disable(tmp_path)  # idempotent


def test_autostart_default_uses_xdg_config_home(tmp_path: Path) -> None:
    # The gui conftest points XDG_CONFIG_HOME at a temporary folder.
    path = autostart.enable()
    assert str(path).startswith(str(tmp_path))
    assert "-m mcp_auth_desktop --hidden" in path.read_text()
    autostart.disable()


def test_preferences_round_trip_and_tolerate_bad_values(loop: Any) -> None:
    store = MemorySettings()
    prefs = Preferences(store)

    async def scenario() -> None:
        assert await prefs.load() == GuiSettings()
        await prefs.save(GuiSettings(clipboard_clear_seconds=5, notifications=False))
        again = Preferences(store)
        assert (await again.load()).clipboard_clear_seconds == 5
        await store.update(lambda d: d.__setitem__("gui", {"clipboard_clear_seconds": "x",
                                                           "notifications": 3}))
        assert await again.load() == GuiSettings()

    run(loop, scenario())


def test_settings_dialog_returns_the_new_values(qtbot: Any) -> None:
    dialog = SettingsDialog(GuiSettings(), storage_text="in memory only")
    qtbot.addWidget(dialog)
    dialog.clipboard_delay.setValue(12)
    dialog.start_at_login.setChecked(True)
    with qtbot.waitSignal(dialog.submitted) as sig:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert sig.args[0] == GuiSettings(clipboard_clear_seconds=12, start_at_login=True)


def test_passphrase_dialog_checks_length_and_repeat(qtbot: Any) -> None:
    dialog = PassphraseDialog("choose one", confirm=True)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(dialog.passphrase, "short")
    assert not ok.isEnabled()
    qtbot.keyClicks(dialog.passphrase, "-enough")
    assert not ok.isEnabled()  # repeat differs
    qtbot.keyClicks(dialog.repeat, "short-enough")
    assert ok.isEnabled()


def test_ask_passphrase_does_not_block_the_loop(loop: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication

    async def scenario() -> str | None:
        task = loop.create_task(ask_passphrase("unlock", error="wrong passphrase"))
        for _ in range(100):
            await __import__("asyncio").sleep(0.01)
            dialogs = [w for w in QApplication.topLevelWidgets()
                       if isinstance(w, PassphraseDialog) and w.isVisible()]
            if dialogs:
                break
        (dialog,) = dialogs
        assert dialog.error.text() == "wrong passphrase"
        dialog.passphrase.setText("correct horse")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        return await task

    assert run(loop, scenario()) == "correct horse"


def test_single_instance_second_launch_asks_the_first(qtbot: Any) -> None:
    key = f"mcp-auth-test-{uuid.uuid4().hex[:12]}"
    first = SingleInstance(key)
    assert first.listen()
    try:
        second = SingleInstance(key)
        with qtbot.waitSignal(first.showRequested, timeout=3000):
            assert second.ask_running_instance()
    finally:
        first.close()
    assert not SingleInstance(key).ask_running_instance(timeout_ms=200)


def test_instance_key_depends_on_home() -> None:
    assert instance_key("/a") != instance_key("/b")
    assert instance_key("/a") == instance_key("/a")


def test_pyside_does_not_over_release_none_or_true() -> None:
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void
    call and to True on every emit, until the interpreter aborts; pyproject
    pins PySide6 below 6.12. This guards the pin."""

    class Probe(QObject):
        ping = Signal(str)

    probe = Probe()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        probe.setObjectName("x")
        probe.ping.emit("x")
    after = sys.getrefcount(None), sys.getrefcount(True)
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50


def test_autostart_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    import subprocess

    path = autostart.enable(tmp_path, ["/opt/My Apps/mcp", "--hidden"])
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()
