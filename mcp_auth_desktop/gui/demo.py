"""The bundled mock server as a child process, for ``--demo``.

Started as a plain subprocess (qasync has no asyncio subprocesses) on a free
loopback port; the first line it prints is its MCP URL. It is stopped when
the app quits, and killed if it does not stop in time.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mcp_auth_desktop.core.childenv import child_environment
from mcp_auth_desktop.core.errors import ConfigurationError, McpAuthError
from mcp_auth_desktop.core.models import ServerOptions

if TYPE_CHECKING:
    from mcp_auth_desktop.gui.bridge import ManagerBridge
    from mcp_auth_desktop.gui.main_window import MainWindow

__all__ = ["DEMO_NAME", "DemoServer", "add_demo_server"]

DEMO_NAME = "Demo MCP server"

log = logging.getLogger(__name__)


class DemoServer:
    """``python -m mock_server --port 0``; ``url`` is set once it runs."""

    def __init__(self, command: Sequence[str] | None = None, *, start_timeout: float = 20.0) -> None:
        self._command = list(command) if command else [sys.executable, "-m", "mock_server", "--port", "0"]
        self._timeout = start_timeout
        self._proc: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None
        self.url: str | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self) -> str:
        # The blocking parts (spawn, first line) run in a worker thread.
        self._proc = await asyncio.to_thread(
            subprocess.Popen,  # fixed argv, no shell
            self._command,
            env=child_environment(),  # never our secrets (issue 15 #9)
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), self._timeout)
        except (TimeoutError, asyncio.CancelledError):
            await self.stop()
            raise
        url = line.strip()
        if not url.startswith("http://127.0.0.1:") and not url.startswith("http://[::1]:"):
            await self.stop()
            raise ConfigurationError(
                "The demo server did not start. It needs the mock server's extra: "
                "pip install 'mcp-auth-desktop[mock]'."
            )
        # Keep reading so a chatty server never blocks on a full pipe.
        self._drain = threading.Thread(target=_drain, args=(stdout,), daemon=True)
        self._drain.start()
        self.url = url
        log.info("demo server running at %s (pid %s)", url, self._proc.pid)
        return url

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            await asyncio.to_thread(self._end, proc)

    def stop_now(self) -> None:
        """Synchronous last resort (e.g. from atexit) when the loop is gone."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._end(proc)

    def _end(self, proc: subprocess.Popen[str]) -> None:
        """Terminate the server (killed after 5 s), then close its pipe; blocks."""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5.0)
        # The drain thread sees end-of-file once the process is gone.
        if self._drain is not None:
            self._drain.join(5.0)
            self._drain = None
        if proc.stdout is not None:
            proc.stdout.close()


def _drain(stream: object) -> None:
    try:
        for _ in stream:  # type: ignore[attr-defined]
            pass
    except (OSError, ValueError):
        pass


async def add_demo_server(demo: DemoServer, bridge: ManagerBridge, window: MainWindow) -> None:
    """Start ``demo`` and add it (loopback http allowed), saying so in the window."""
    from mcp_auth_desktop.gui.bridge import AddServerRequest

    window.show_message("Starting the demo server…")
    try:
        url = await demo.start()
    except McpAuthError as exc:
        window.show_error("Demo server", exc.user_message)
        return
    except TimeoutError:
        window.show_error("Demo server", "The demo server did not start in time.")
        return
    request = AddServerRequest(url=url, name=DEMO_NAME,
                               options=ServerOptions(allow_insecure_loopback=True))
    view = await bridge.add_server(request)
    if view is not None:
        window.select_server(view.id)
        window.show_message(f"Demo server running at {url}: choose Sign in to try it.")
