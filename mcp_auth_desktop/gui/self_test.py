"""``mcp-auth-desktop --self-test``: prove a build works, without a display or network.

Builds the real window offscreen on a qasync loop on the app's own runtime
(``mcp_auth_desktop.runtime.open_runtime``, secrets in memory), and talks to the bundled mock server started through its own public entry point
(``python -m mock_server --port 0 --auto-approve`` as a child on 127.0.0.1, as
``--demo`` does; the app never imports it): add a server (discovery), sign in
headlessly (the mock server auto-approves), list tools, copy a token, remove the
server. Exit code 0 means all of it worked; packaging runs this against the
frozen bundle and tests/packaging/test_wheel.py against an installed wheel.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable
from typing import TypeVar

import httpx

from mcp_auth_desktop.core.errors import McpAuthError
from mcp_auth_desktop.core.loopback import is_start_page
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.state import ServerState

__all__ = ["HeadlessBrowser", "run_self_test", "self_test"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The mock server's own command line (the frozen app runs ``-m`` modules, see launch_gui.py).
MOCK_COMMAND = [sys.executable, "-m", "mock_server", "--port", "0", "--auto-approve"]


class HeadlessBrowser:
    """Stands in for the user's browser against an auto-approving authorization server.

    The authorization request goes through ``as_client``; the redirect to the
    app's loopback listener goes over a real socket.
    """

    def __init__(self, as_client: httpx.AsyncClient) -> None:
        self._as = as_client
        self.visited: list[str] = []
        self.errors: list[str] = []

    async def open(self, url: str) -> None:
        self.visited.append(url)
        try:
            if is_start_page(url):
                # The app's single-use loopback start page, over a real socket like the callback.
                async with httpx.AsyncClient(timeout=10.0, trust_env=False) as loopback:
                    start = await loopback.get(url)
                url = start.headers.get("location", url)
            response = await self._as.get(url, follow_redirects=False)
            location = response.headers.get("location")
            if response.status_code not in (302, 303) or not location:
                self.errors.append(f"authorization answered {response.status_code}, no redirect")
                return
            async with httpx.AsyncClient(timeout=10.0, trust_env=False) as loopback:
                await loopback.get(location)
        except httpx.HTTPError as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")


async def _step(what: str, aw: Awaitable[T | None], limit: float = 30.0) -> T:
    result = await asyncio.wait_for(aw, limit)
    if result is None:
        raise RuntimeError(f"{what} failed")
    print(f"self-test: {what}: ok", flush=True)
    return result


async def self_test() -> int:
    """The checks; returns the exit code."""
    from mcp_auth_desktop.gui.actions import ServerActions
    from mcp_auth_desktop.gui.bridge import AddServerRequest, ManagerBridge
    from mcp_auth_desktop.gui.clipboard import SecretClipboard
    from mcp_auth_desktop.gui.demo import DemoServer
    from mcp_auth_desktop.gui.main_window import MainWindow
    from mcp_auth_desktop.gui.preferences import Preferences
    from mcp_auth_desktop.runtime import open_runtime

    mock = DemoServer(MOCK_COMMAND)
    try:
        mcp_url = await mock.start()
    except (McpAuthError, TimeoutError) as exc:
        print(f"self-test: FAILED: the mock server did not start: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"self-test: mock server at {mcp_url}: ok", flush=True)
    # The browser's own connection to the authorization server (the app's is the runtime's).
    http = httpx.AsyncClient(timeout=15.0, trust_env=False)
    browser = HeadlessBrowser(http)
    try:
        runtime = await open_runtime(ephemeral=True)
    except BaseException:
        await http.aclose()
        await mock.stop()
        raise
    manager = runtime.manager
    bridge: ManagerBridge | None = None
    window: MainWindow | None = None
    failures: list[str] = []
    bridge_ref: list[ManagerBridge] = []

    def open_url(url: str) -> None:
        bridge_ref[0].spawn(browser.open(url))

    try:
        bridge = ManagerBridge(manager, loop=asyncio.get_running_loop(), url_opener=open_url)
        bridge_ref.append(bridge)
        bridge.actionFailed.connect(lambda _s, a, m: failures.append(f"{a}: {m}"))
        bridge.start()
        prefs = Preferences(runtime.settings)
        await prefs.load()
        clipboard = SecretClipboard()
        actions = ServerActions(bridge, clipboard, prefs)
        window = MainWindow(bridge, actions, prefs)
        window.show()
        print(f"self-test: window built ({window.model.columnCount()} columns)", flush=True)

        view = await _step("add server + discovery", bridge.add_server(AddServerRequest(
            url=mcp_url, name="Self-test",
            options=ServerOptions(allow_insecure_loopback=True))))
        if view.state is not ServerState.NEEDS_SIGN_IN or not view.issuer:
            raise RuntimeError(f"unexpected state after discovery: {view.state.value}")
        view = await _step("headless sign-in", actions.sign_in(view.id))
        if view.state is not ServerState.SIGNED_IN:
            raise RuntimeError(f"not signed in: {view.state.value} {browser.errors}")
        tools_task = bridge.test(view.id)
        tools = await _step("initialize + tools/list", tools_task)
        if not any(t.name == "echo" for t in tools):
            raise RuntimeError("tools/list did not list echo")
        if not await _step("copy token", actions.copy_token(view.id)):
            raise RuntimeError("copy token failed")
        if not clipboard.holds_secret():
            raise RuntimeError("the token is not on the clipboard")
        clipboard.clear_if_ours()
        report = await _step("remove (revocation)", bridge.remove(view.id))
        if not report.supported or report.errors:
            raise RuntimeError(f"revocation: {report.summary()}")
        if window.model.rowCount() != 0:
            raise RuntimeError("the removed server is still listed")
        print("self-test: passed", flush=True)
        return 0
    except (McpAuthError, RuntimeError, TimeoutError) as exc:
        print(f"self-test: FAILED: {exc} {failures} {browser.errors}", file=sys.stderr, flush=True)
        return 1
    finally:
        if window is not None:
            window.model.stop()
            window.hide()
            window.deleteLater()
        if bridge is not None:
            await bridge.aclose()
        await runtime.aclose()
        await http.aclose()
        await mock.stop()


def run_self_test() -> int:
    import qasync

    from mcp_auth_desktop.gui.qt_app import make_qapplication

    app = make_qapplication([sys.argv[0]])

    def factory() -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        return loop

    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(self_test())
