"""`mcp-auth token`'s lean path, as real processes on the real Secret Service (headless.sh).

The lean path (cli/token_fast.py) must give exactly what the full command
gives, and hand everything it does not handle to it: a token near expiry is
refreshed by the full path (under its lock), a missing server and a locked
keyring give the full path's errors and exit codes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from mcp_auth_desktop import storage
from mcp_auth_desktop.cli import token_fast
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.storage import open_storage, opening, paths
from tests.mock.helpers import MockProcess, start_mock_process
from tests.start_page import HeadlessApprover

pytestmark = [pytest.mark.keyring, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
# Imported by the full path, never by the lean one (checked with -X importtime).
HEAVY = ("mcp_auth_desktop.core.manager", "httpx", "keyring", "asyncio", "argparse")


def _start(ttl: int) -> Iterator[MockProcess]:
    proc = start_mock_process("--auto-approve", "--access-token-ttl", str(ttl))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def mock() -> Iterator[MockProcess]:
    yield from _start(3600)


@pytest.fixture
def short_mock() -> Iterator[MockProcess]:
    yield from _start(4)


async def _sign_in(mock: MockProcess, key_source: str = "keyring") -> None:
    """Sign in to the mock as the app would, keeping the vault key in the real keyring."""
    vault, settings = await asyncio.to_thread(open_storage)
    assert vault.location.key_source == key_source
    http = make_http_client()
    m = TokenManager(http=http, vault=vault, settings=settings, browser=HeadlessApprover())
    try:
        await m.start(background=False)
        await m.add_server(mock.mcp_url, name="Mock", options=ServerOptions(allow_insecure_loopback=True))
        await m.sign_in("mock")
    finally:
        await m.aclose()
        await http.aclose()
        await vault.aclose()


@pytest.fixture
async def signed_in(mock: MockProcess) -> AsyncIterator[MockProcess]:
    await _sign_in(mock)
    yield mock


def mcp_auth(*args: str, lean: bool = True, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    """The `mcp-auth` console script's code (lean first), or the full command alone."""
    module = "mcp_auth_desktop.cli" if lean else "mcp_auth_desktop.cli.main"
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", module, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60, env=dict(os.environ),
    )


def _audit() -> str:
    path = Path(os.environ["MCP_AUTH_DESKTOP_HOME"]) / "audit.log"
    return path.read_text() if path.exists() else ""


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_constants_match_the_storage_layer() -> None:
    assert token_fast._HOME_ENV == paths.HOME_ENV == storage.HOME_ENV
    assert token_fast._KEYRING_ENV == opening.KEYRING_ENV == storage.KEYRING_ENV
    assert token_fast._PASSPHRASE_ENV == opening.PASSPHRASE_ENV == storage.PASSPHRASE_ENV
    assert token_fast._APP_NAME == paths.APP_NAME
    from mcp_auth_desktop.storage.keys import KEYRING_SERVICE
    from mcp_auth_desktop.storage.settings import CURRENT_SCHEMA

    assert token_fast._KEYRING_SERVICE == KEYRING_SERVICE
    assert token_fast._SETTINGS_SCHEMA == CURRENT_SCHEMA


def test_format_token() -> None:
    assert token_fast.format_token("abc", "plain") == "abc\n"
    assert token_fast.format_token("abc", "header") == "Authorization: Bearer abc\n"
    assert json.loads(token_fast.format_token("abc", "json")) == {"Authorization": "Bearer abc"}


async def test_valid_token_lean_path_same_output_no_heavy_imports(signed_in: MockProcess) -> None:
    before = _audit()
    lean_text = token_fast.lean_token(["mock"])  # in-process: the lean path answers itself
    for args in (["Mock"], ["mock", "--format", "header"], ["mock", "--format=json"],
                 ["mock", "--json"], ["mock", "--min-ttl", "30"]):
        lean = await asyncio.to_thread(mcp_auth, "token", *args, importtime=True)
        full = await asyncio.to_thread(mcp_auth, "token", *args, lean=False)
        assert lean.returncode == full.returncode == 0, lean.stderr[-500:] + full.stderr
        assert lean.stdout == full.stdout
        assert not _imported(lean.stderr) & set(HEAVY), _imported(lean.stderr) & set(HEAVY)
        assert "mcp_auth_desktop.core.manager" in _imported(
            (await asyncio.to_thread(mcp_auth, "token", *args, lean=False, importtime=True)).stderr
        )
    token = lean_text.strip()
    header = json.loads(token_fast.lean_token(["mock", "--format", "json"]))
    assert header == {"Authorization": f"Bearer {token}"}
    # The token works at the server.
    async with httpx.AsyncClient(trust_env=False) as c:
        r = await c.post(signed_in.mcp_url, headers={**header, "Accept": "application/json, text/event-stream"},
                         json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                             "protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "test", "version": "0"}}})
    assert r.status_code == 200, r.text
    # Neither path records anything for a cached token (the full one subscribes after loading).
    assert _audit() == before


async def test_near_expiry_refreshes_through_the_full_path(short_mock: MockProcess) -> None:
    await _sign_in(short_mock)
    first = token_fast.lean_token(["mock"]).strip()
    refreshes = short_mock.control()["stats"].get("tokens_refreshed", 0)
    await asyncio.sleep(2.5)  # 4 s tokens: past half their lifetime, the cap on --min-ttl
    with pytest.raises(token_fast._Full, match="refresh"):
        token_fast.lean_token(["mock"])
    # Another process (here: a thread of this one) holds the server's cross-process refresh
    # lock for 2 s: the command waits for it before refreshing, as the full path always did.
    home = Path(os.environ["MCP_AUTH_DESKTOP_HOME"])
    entry = token_fast._entry_name(json.loads((home / "settings.json").read_text()), "mock")
    vault, _ = await asyncio.to_thread(open_storage)
    held = threading.Event()

    def hold() -> None:
        with vault.lock(entry).hold_sync():
            held.set()
            time.sleep(2.0)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    t0 = time.monotonic()
    r = await asyncio.to_thread(mcp_auth, "token", "mock")
    waited = time.monotonic() - t0
    holder.join()
    await vault.aclose()
    assert r.returncode == 0, r.stderr
    assert waited >= 1.5, f"did not wait for the lock ({waited:.2f} s)"
    fresh = r.stdout.strip()
    assert fresh and fresh != first
    assert "TokensRefreshed" in _audit()
    # The refreshed token is cached now: the lean path serves it.
    assert token_fast.lean_token(["mock"]).strip() == fresh
    assert short_mock.control()["stats"]["tokens_refreshed"] == refreshes + 1


async def test_missing_server_same_error_and_exit_code(signed_in: MockProcess) -> None:
    with pytest.raises(token_fast._Full):
        token_fast.lean_token(["nosuch"])
    lean = await asyncio.to_thread(mcp_auth, "token", "nosuch")
    full = await asyncio.to_thread(mcp_auth, "token", "nosuch", lean=False)
    assert lean.returncode == full.returncode == 4
    assert lean.stderr == full.stderr and "No server named 'nosuch'" in lean.stderr
    assert lean.stdout == ""


def test_not_signed_in_and_usage_errors_go_to_the_full_path() -> None:
    assert mcp_auth("token").returncode == 2
    r = mcp_auth("token", "x", "--json", "--format", "json")
    assert r.returncode == 2 and "not allowed with" in r.stderr
    r = mcp_auth("token", "x", "--format", "yaml")
    assert r.returncode == 2 and "invalid choice" in r.stderr


class _SecretService:
    """Calls to the session's Secret Service over one connection (sessions belong to one)."""

    def __init__(self) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection()

    def __call__(self, method: str, sig: str, *body: object, path: str = "/org/freedesktop/secrets",
                 iface: str = "org.freedesktop.Secret.Service") -> tuple[object, ...]:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        address = DBusAddress(path, bus_name="org.freedesktop.secrets", interface=iface)
        msg = new_method_call(address, method, sig, body)
        return tuple(unwrap_msg(self.conn.send_and_get_reply(msg, timeout=5)))


async def test_locked_keyring_gives_the_full_paths_error(signed_in: MockProcess) -> None:
    ss = _SecretService()
    (collection,) = ss("ReadAlias", "s", "default")
    ss("Lock", "ao", [collection])
    try:
        with pytest.raises(token_fast._Full, match="secret service"):
            token_fast.lean_token(["mock"])
        lean = await asyncio.to_thread(mcp_auth, "token", "mock")
        full = await asyncio.to_thread(mcp_auth, "token", "mock", lean=False)
        assert lean.returncode == full.returncode == 6, lean.stderr
        assert lean.stdout == "" and lean.stderr == full.stderr
        assert "keyring" in lean.stderr.lower()
    finally:
        # gnome-keyring's own unlock call (the password headless.sh set), so later tests
        # find the session keyring as they expect.
        _, session = ss("OpenSession", "sv", "plain", ("s", ""))
        ss("UnlockWithMasterPassword", "o(oayays)", collection,
           (session, b"", b"mcp-auth-test", "text/plain"),
           iface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
        ss.conn.close()
    assert token_fast.lean_token(["mock"]).strip()


def test_lean_path_declines_what_it_must_not_judge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "memory")
    with pytest.raises(token_fast._Full, match="memory"):
        token_fast.lean_token(["x"])
    monkeypatch.delenv("MCP_AUTH_DESKTOP_KEYRING")
    for argv in (["x", "--verbose"], ["x", "y"], [], ["-h"], ["x", "--min-ttl", "soon"]):
        with pytest.raises(token_fast._Full):
            token_fast.lean_token(argv)
    # Folders or files the full path would repair or refuse are left to it.
    home = Path(os.environ["MCP_AUTH_DESKTOP_HOME"])
    (home / "locks").mkdir(mode=0o700)
    (home / "settings.json").write_text('{"schema_version": 1, "servers": []}')
    (home / "settings.json").chmod(0o644)
    with pytest.raises(token_fast._Full, match="full checks"):
        token_fast.lean_token(["x"])


def test_missing_home_goes_to_the_full_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(tmp_path / "absent"))
    assert token_fast.run(["x"]) is None  # nothing printed; the full path creates the folder


async def test_passphrase_vault_from_the_environment(mock: MockProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", "lean path passphrase")
    await _sign_in(mock, key_source="passphrase")
    lean_text = token_fast.lean_token(["mock", "--format", "header"])
    full = await asyncio.to_thread(mcp_auth, "token", "mock", "--format", "header", lean=False)
    assert full.returncode == 0 and lean_text == full.stdout
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", "a wrong passphrase")
    with pytest.raises(token_fast._Full, match="does not open"):
        token_fast.lean_token(["mock"])
    monkeypatch.delenv("MCP_AUTH_DESKTOP_PASSPHRASE")
    with pytest.raises(token_fast._Full, match="asked for"):
        token_fast.lean_token(["mock"])


#: What the lean path may import beyond a bare interpreter's start: the lean path itself,
#: json, the keyring's D-Bus client (jeepney) and the cipher (cryptography): 64 modules
#: when this was written (the full path: 576). Its speed (at most 4x `python -c pass`) is a figure of
#: bench/bench_token.py; this budget is what keeps it, counted.
LEAN_IMPORT_BUDGET = 80


async def test_cached_token_imports_a_bounded_number_of_modules(signed_in: MockProcess) -> None:
    """The lean path's cost, counted: the modules it imports beyond `python -c pass`
    (the full path imports several hundred)."""
    bare = await asyncio.to_thread(subprocess.run, [sys.executable, "-X", "importtime", "-c", "pass"],
                                   capture_output=True, text=True, cwd=ROOT, timeout=60)
    lean = await asyncio.to_thread(mcp_auth, "token", "mock", importtime=True)
    full = await asyncio.to_thread(mcp_auth, "token", "mock", lean=False, importtime=True)
    assert lean.returncode == full.returncode == 0, lean.stderr[-500:] + full.stderr[-500:]
    extra = _imported(lean.stderr) - _imported(bare.stderr)
    full_extra = _imported(full.stderr) - _imported(bare.stderr)
    print(f"lean path: {len(extra)} modules beyond python -c pass; full path: {len(full_extra)}")
    assert len(extra) <= LEAN_IMPORT_BUDGET, sorted(extra)
    assert len(full_extra) > 3 * LEAN_IMPORT_BUDGET  # the budget would notice the full path


@pytest.mark.parametrize("home", [None, "~/mcp-home", "relative/home"])
def test_lean_folders_are_the_apps_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           home: str | None) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    if home is None:
        monkeypatch.delenv("MCP_AUTH_DESKTOP_HOME")
    else:
        monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", home)
    app = paths.app_paths()
    assert token_fast._folders() == (str(app.config_dir), str(app.data_dir))
