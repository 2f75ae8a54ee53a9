"""One running app per user and data folder.

A named local socket (QLocalServer) keyed by the user and the app home.
A second launch connects, asks the first to show its window, and exits.
A socket left behind by a crashed instance is detected (nobody answers)
and replaced.
"""

from __future__ import annotations

import getpass
import hashlib
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["SingleInstance", "instance_key"]

_SHOW = b"show\n"


def instance_key(home: str | None = None) -> str:
    """Socket name for this user and ``home`` (default: $MCP_AUTH_DESKTOP_HOME or the default)."""
    home = home if home is not None else os.environ.get("MCP_AUTH_DESKTOP_HOME", "<default>")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{user}\x1f{os.path.abspath(home) if home != '<default>' else home}".encode())
    return f"mcp-auth-desktop-{digest.hexdigest()[:20]}"


class SingleInstance(QObject):
    """Signals: showRequested() — another launch asked this one to come forward."""

    showRequested = Signal()

    def __init__(self, key: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key or instance_key()
        self._server: QLocalServer | None = None
        self._clients: set[QLocalSocket] = set()

    def ask_running_instance(self, timeout_ms: int = 1000) -> bool:
        """True if another instance answered (and was asked to show itself)."""
        sock = QLocalSocket()
        sock.connectToServer(self.key)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(_SHOW)
        sock.flush()
        sock.waitForBytesWritten(timeout_ms)
        sock.disconnectFromServer()
        return True

    def listen(self) -> bool:
        server = QLocalServer()
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.key):
            # A stale socket from a crashed run: nobody answered above, so remove it.
            QLocalServer.removeServer(self.key)
            if not server.listen(self.key):
                return False
        server.newConnection.connect(self._on_new_connection)
        self._server = server
        return True

    def _on_new_connection(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            sock: QLocalSocket | None = server.nextPendingConnection()
            if not isinstance(sock, QLocalSocket):
                break
            # Ours to delete (not the server's), so closing the server cannot
            # leave a dangling socket behind a queued signal.
            sock.setParent(None)
            self._clients.add(sock)
            sock.readyRead.connect(self._on_ready_read)
            sock.disconnected.connect(self._on_client_disconnected)
            if sock.bytesAvailable():
                self._read(sock)

    def _on_ready_read(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        if b"show" in data:
            self.showRequested.emit()

    def _on_client_disconnected(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket) and sock in self._clients:
            self._clients.discard(sock)
            sock.deleteLater()

    def close(self) -> None:
        for sock in list(self._clients):
            sock.readyRead.disconnect(self._on_ready_read)
            sock.disconnected.disconnect(self._on_client_disconnected)
            sock.abort()
            sock.deleteLater()
        self._clients.clear()
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
