"""Before the vault is open, the window and the tray say what they wait for (issue 16).

A server's state lives with its tokens in the vault, so until the keyring has unlocked
it nothing about a server is known: the rows, the tray's tooltip and the status bar say
"waiting for the keyring" (or that the keyring did not unlock, with Try again) instead of
showing states as if they were known, and every server action is off. Once the vault
opens, the rows show the real states.

The first test locks the REAL gnome-keyring of the headless session (Secret Service over
D-Bus) under a vault made by the real app with a server signed in at a REAL mock server,
then unlocks it as a user would and chooses Try again. The second holds the vault's
opening as a slow unlock prompt would; the third asks for a passphrase vault's passphrase.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import secretstorage
from secretstorage.util import DBusAddressWrapper, format_secret, open_session

import mcp_auth_desktop.gui.vault_unlock as vault_unlock
import mcp_auth_desktop.storage as storage
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.app import DesktopApp, build_parser
from mcp_auth_desktop.gui.preview import KEYRING_LOCKED, WAITING_FOR_KEYRING
from mcp_auth_desktop.gui.self_test import HeadlessBrowser
from mcp_auth_desktop.gui.server_model import Column
from tests.gui.conftest import run, started, until
from tests.mock.helpers import MockProcess

pytestmark = [pytest.mark.e2e, pytest.mark.keyring]

#: The password scripts/headless.sh gives the session's login keyring.
KEYRING_PASSWORD = b"mcp-auth-test"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(home))
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "keyring")  # the vault key in the keyring
    monkeypatch.delenv("MCP_AUTH_DESKTOP_PASSPHRASE", raising=False)
    return home


class LoginKeyring:
    """The session's real login collection, locked and unlocked as a user would."""

    def __init__(self) -> None:
        self.connection = secretstorage.dbus_init()
        self.collection = secretstorage.get_default_collection(self.connection)

    def lock(self) -> None:
        self.collection.lock()
        assert self.collection.is_locked()

    def unlock(self) -> None:
        # What the desktop's unlock prompt does with the password the user types.
        internal = DBusAddressWrapper(
            "/org/freedesktop/secrets",
            "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", self.connection)
        internal.call("UnlockWithMasterPassword", "o(oayays)", self.collection.collection_path,
                      format_secret(open_session(self.connection), KEYRING_PASSWORD, "text/plain"))
        assert not self.collection.is_locked()


@pytest.fixture
def login_keyring() -> Iterator[LoginKeyring]:
    ring = LoginKeyring()
    try:
        yield ring
    finally:
        if ring.collection.is_locked():
            ring.unlock()  # the rest of the session's tests share this keyring
        ring.connection.close()


async def _signed_in_server(mcp_url: str) -> str:
    """A vault made by the real app (its key in the keyring) with one server signed in."""
    vault, settings = await storage.open_storage_async()
    http = make_http_client()
    browser_http = httpx.AsyncClient(timeout=10, trust_env=False)
    browser = HeadlessBrowser(browser_http)
    manager = TokenManager(http=http, vault=vault, settings=settings)
    try:
        await manager.start(background=False)
        view = await manager.add_server(mcp_url, name="Vaulted",
                                        options=ServerOptions(allow_insecure_loopback=True))
        await manager.sign_in(view.id, on_authorization_url=lambda url: asyncio.ensure_future(
            browser.open(url)) and None)
        assert manager.get(view.id).state is ServerState.SIGNED_IN
        return view.id
    finally:
        await manager.aclose()
        await http.aclose()
        await browser_http.aclose()
        await vault.aclose()


def _app(qapp: Any) -> DesktopApp:
    return DesktopApp(qapp, build_parser().parse_args([]), http_factory=make_http_client)


def _state_cells(desktop: DesktopApp) -> list[str]:
    model = desktop.window.model
    return [model.index(r, Column.STATE).data() for r in range(model.rowCount())]


def _shows_locked(desktop: DesktopApp, because: str) -> None:
    """Every place that would show a server's state says what the app waits for."""
    window, tray = desktop.window, desktop.tray
    assert window is not None and tray is not None
    assert _state_cells(desktop) == [because]
    view = window.selected_view()
    assert view is not None and view.state is ServerState.LOCKED
    assert window.details.fields["state"].text() == f"locked — {because}"
    for unknown in ("account", "granted", "expires", "refresh_token"):  # not "none" or "—"
        assert window.details.fields[unknown].text() == "unknown until your tokens are unlocked"
    assert not any(a.isEnabled() for a in window.server_action_list + [window.act_edit])
    assert tray.state.value == "attention"  # never "all servers are fine"
    assert f"your tokens are locked: {because}" in tray.tooltip_text
    assert f"Vaulted: {because}" in tray.tooltip_text
    assert window.storage_label.text() == f"Tokens locked: {because}"


# keyring's Secret Service backend leaves its D-Bus connection open when the collection
# stays locked (get_preferred_collection raises KeyringLocked before closing it): its
# socket's ResourceWarning is that library's, not the app's.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning")
def test_a_locked_keyring_is_said_on_every_row_until_it_unlocks(
        qapp: Any, loop: Any, home: Path, mock: MockProcess,
        login_keyring: LoginKeyring, caplog: pytest.LogCaptureFixture) -> None:
    run(loop, _signed_in_server(mock.mcp_url), timeout=60)
    login_keyring.lock()
    desktop = _app(qapp)

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: desktop.unlock.keyring_box is not None and desktop.unlock.keyring_box.isVisible(),
                    within=20, what="the keyring did not unlock")
        box = desktop.unlock.keyring_box
        assert "Try again" in box.text()
        assert "KeyringLocked" in caplog.text  # the real Secret Service refused: locked
        await until(lambda: _state_cells(desktop) == [KEYRING_LOCKED], within=5,
                    what=f"rows say so: {_state_cells(desktop)}")
        desktop.tray.update_state()
        _shows_locked(desktop, KEYRING_LOCKED)
        assert desktop.manager is None and desktop.vault is None

        # The user unlocks the keyring and chooses Try again: the real states show.
        login_keyring.unlock()
        next(b for b in box.buttons() if b.text() == "Try again").click()
        await until(lambda: started(desktop), within=20, what="started")
        await until(lambda: _state_cells(desktop) == ["signed in"], within=5,
                    what=f"real state: {_state_cells(desktop)}")
        window, tray = desktop.window, desktop.tray
        assert window is not None and tray is not None
        tray.update_state()
        assert tray.state.value == "ok" and "locked" not in tray.tooltip_text
        assert window.act_refresh.isEnabled() and window.act_edit.isEnabled()
        assert not window.storage_label.text().startswith("Tokens locked")
        desktop.request_quit()
        return await asyncio.wait_for(task, 20)

    assert run(loop, scenario(), timeout=90) == 0
    gc.collect()  # that connection's warning belongs to this test, not the next


def test_while_the_unlock_prompt_is_open_the_rows_wait_for_the_keyring(
        qapp: Any, loop: Any, home: Path, mock: MockProcess,
        monkeypatch: pytest.MonkeyPatch) -> None:
    run(loop, _signed_in_server(mock.mcp_url), timeout=60)
    answered = asyncio.Event()
    real_open = storage.open_storage_async

    async def prompt_open(**kwargs: Any) -> Any:
        await answered.wait()  # the user is answering the keyring's unlock prompt
        return await real_open(**kwargs)

    monkeypatch.setattr(storage, "open_storage_async", prompt_open)
    monkeypatch.setattr(vault_unlock, "KEYRING_NOTICE_DELAY_MS", 50)
    desktop = _app(qapp)

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: desktop.unlock.keyring_wait_box is not None, within=10, what="wait notice")
        await until(lambda: _state_cells(desktop) == [WAITING_FOR_KEYRING], within=5,
                    what=f"rows waiting: {_state_cells(desktop)}")
        desktop.tray.update_state()
        _shows_locked(desktop, WAITING_FOR_KEYRING)
        answered.set()
        await until(lambda: started(desktop), within=20, what="started")
        await until(lambda: _state_cells(desktop) == ["signed in"], within=5, what="real state")
        desktop.request_quit()
        return await asyncio.wait_for(task, 20)

    assert run(loop, scenario(), timeout=90) == 0


def test_while_the_passphrase_is_asked_the_rows_wait_for_it(
        qapp: Any, loop: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from mcp_auth_desktop.gui.preview import PASSPHRASE
    from tests.gui.test_app import _visible_passphrase_dialog

    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(home))
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", "correct horse battery")

    async def seed() -> None:  # a passphrase vault with one server in it, made by the real app
        vault, settings = await storage.open_storage_async()
        http = make_http_client()
        manager = TokenManager(http=http, vault=vault, settings=settings)
        await manager.start(background=False)
        await manager.add_server("https://vaulted.example/mcp", name="Vaulted", discover=False)
        await manager.aclose()
        await http.aclose()
        await vault.aclose()

    run(loop, seed(), timeout=30)
    monkeypatch.delenv("MCP_AUTH_DESKTOP_PASSPHRASE")  # now the app has to ask
    desktop = _app(qapp)

    async def scenario() -> int:
        task = asyncio.ensure_future(desktop.run())
        await until(lambda: _visible_passphrase_dialog() is not None, within=10, what="asked")
        await until(lambda: _state_cells(desktop) == [PASSPHRASE], within=5,
                    what=f"rows waiting: {_state_cells(desktop)}")
        desktop.tray.update_state()
        _shows_locked(desktop, PASSPHRASE)
        dialog = _visible_passphrase_dialog()
        dialog.passphrase.setText("correct horse battery")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await until(lambda: started(desktop), within=20, what="started")
        await until(lambda: _state_cells(desktop) == ["new"], within=5, what="real state")
        desktop.request_quit()
        return await asyncio.wait_for(task, 20)

    assert run(loop, scenario(), timeout=60) == 0
