"""One running app per user and data folder.

A named local socket (QLocalServer) keyed by the user and the app home.
A second launch connects, asks the first to show its window, and exits.
A socket left behind by a crashed instance is detected (nobody answers)
and replaced. ``mcp-auth bridge`` uses the same channel to ask the app to
sign in (line protocol in :mod:`mcp_auth_desktop.bridge.appipc`).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from mcp_auth_desktop.bridge.appipc import SIGN_IN, instance_key, parse_command

__all__ = ["SingleInstance", "instance_key"]

_SHOW = b"show\n"
#: A client that sends more than this without a line break is cut off.
_MAX_PENDING = 4096


class SingleInstance(QObject):
    """Signals: showRequested() — another launch asked this one to come forward;
    signInRequested(server_id, scopes) — a bridge needs a sign-in (or step-up)."""

    showRequested = Signal()
    signInRequested = Signal(str, list)

    def __init__(self, key: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key or instance_key()
        self._server: QLocalServer | None = None
        self._clients: set[QLocalSocket] = set()
        self._pending: dict[QLocalSocket, bytes] = {}

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
        data = self._pending.pop(sock, b"") + bytes(sock.readAll().data())
        *lines, rest = data.split(b"\n")
        if len(rest) > _MAX_PENDING:
            sock.abort()
            return
        if rest:
            self._pending[sock] = rest
        for raw in lines:
            command = parse_command(raw.decode("ascii", "replace"))
            if command is None:
                continue
            name, server_id, scopes = command
            if name == "show":
                self.showRequested.emit()
            elif name == SIGN_IN:
                self.signInRequested.emit(server_id, list(scopes))

    def _on_client_disconnected(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket) and sock in self._clients:
            self._clients.discard(sock)
            self._pending.pop(sock, None)
            sock.deleteLater()

    def close(self) -> None:
        for sock in list(self._clients):
            sock.readyRead.disconnect(self._on_ready_read)
            sock.disconnected.disconnect(self._on_client_disconnected)
            sock.abort()
            sock.deleteLater()
        self._clients.clear()
        self._pending.clear()
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
