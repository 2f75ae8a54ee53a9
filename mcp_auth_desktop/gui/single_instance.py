"""One running app per user and data folder.

A named local socket keyed by the user and the app home: on POSIX a Unix socket at
:func:`~mcp_auth_desktop.bridge.appipc.socket_path` (where Qt's QLocalServer puts it,
so either side may be an older or newer build), served with the standard library's
``socket`` and a QSocketNotifier; on Windows Qt's QLocalServer (a named pipe).
QtNetwork is not loaded on POSIX: it cost the first frame some 6 ms and the process
about 3 MiB (bench/bench_gui.py). A second launch connects, asks the first to show
its window, and exits. A socket left behind by a crashed instance is detected
(nobody answers) and replaced. ``mcp-auth bridge`` uses the same channel to ask the
app to sign in (line protocol in :mod:`mcp_auth_desktop.bridge.appipc`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, Signal

from mcp_auth_desktop.bridge.appipc import SIGN_IN, instance_key, parse_command, socket_path

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["SingleInstance", "instance_key"]

_SHOW = b"show\n"
#: A client that sends more than this without a line break is cut off.
_MAX_PENDING = 4096
_POSIX = os.name != "nt"


class _Client:
    """One connected Unix-socket client: its socket, its read notifier, what it sent so far."""

    def __init__(self, sock: socket.socket, notifier: QSocketNotifier) -> None:
        self.sock = sock
        self.notifier = notifier
        self.pending = b""


class SingleInstance(QObject):
    """Signals: showRequested() — another launch asked this one to come forward;
    signInRequested(server_id, scopes) — a bridge needs a sign-in (or step-up)."""

    showRequested = Signal()
    signInRequested = Signal(str, list)

    def __init__(self, key: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key or instance_key()
        # POSIX: the listening socket, its notifier and path, the clients by descriptor.
        self._listener: socket.socket | None = None
        self._accept: QSocketNotifier | None = None
        self._path: str | None = None
        self._unix_clients: dict[int, _Client] = {}
        # Windows: Qt's local server and its clients.
        self._server: QLocalServer | None = None
        self._clients: set[QLocalSocket] = set()
        self._pending: dict[QLocalSocket, bytes] = {}

    def ask_running_instance(self, timeout_ms: int = 1000) -> bool:
        """True if another instance answered (and was asked to show itself)."""
        if not _POSIX:  # pragma: no cover - Windows only
            return self._ask_qt(timeout_ms)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout_ms / 1000)
                sock.connect(socket_path(self.key))
                sock.sendall(_SHOW)
        except OSError:
            return False  # no socket, or nobody listening on it (a crashed run's)
        return True

    def listen(self) -> bool:
        if not _POSIX:  # pragma: no cover - Windows only
            return self._listen_qt()
        path = socket_path(self.key)
        if os.path.lexists(path):
            # A stale socket from a crashed run: nobody answered above, so remove it.
            with contextlib.suppress(OSError):
                os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Bound in a private folder, made the user's alone, then moved into place (as
            # QLocalServer's UserAccessOption): nobody else can connect in between.
            with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as private:
                staged = os.path.join(private, "s")
                listener.bind(staged)
                os.chmod(staged, 0o600)
                listener.listen(8)
                if os.path.lexists(path):
                    raise FileExistsError(path)  # another start got there first
                os.rename(staged, path)
        except OSError:
            listener.close()
            return False
        listener.setblocking(False)
        self._listener, self._path = listener, path
        self._accept = QSocketNotifier(listener.fileno(), QSocketNotifier.Type.Read, self)
        self._accept.activated.connect(self._on_connection)
        return True

    def _on_connection(self) -> None:
        while self._listener is not None:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            sock.setblocking(False)
            notifier = QSocketNotifier(sock.fileno(), QSocketNotifier.Type.Read, self)
            client = self._unix_clients[sock.fileno()] = _Client(sock, notifier)

            def readable(*_: object, client: _Client = client) -> None:  # (descriptor, type)
                self._on_client_readable(client)

            notifier.activated.connect(readable)

    def _on_client_readable(self, client: _Client) -> None:
        try:
            data = client.sock.recv(_MAX_PENDING)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        client.pending = self._take(client.pending + data)
        if len(client.pending) > _MAX_PENDING:
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        if self._unix_clients.get(client.sock.fileno()) is not client:
            return
        del self._unix_clients[client.sock.fileno()]
        # Unwatched before its descriptor can be reused. The notifier itself stays a child
        # of this object until it goes (deleting it here, inside its own signal, or later
        # with deleteLater crashed PySide6 in tests/gui): a few hundred bytes per client,
        # and clients are second launches and bridges' sign-in requests.
        client.notifier.setEnabled(False)
        client.sock.close()

    def _take(self, data: bytes) -> bytes:
        """Act on each whole line in ``data``; what is left after the last line break."""
        *lines, rest = data.split(b"\n")
        if len(rest) > _MAX_PENDING:
            return rest
        for raw in lines:
            command = parse_command(raw.decode("ascii", "replace"))
            if command is None:
                continue
            name, server_id, scopes = command
            if name == "show":
                self.showRequested.emit()
            elif name == SIGN_IN:
                self.signInRequested.emit(server_id, list(scopes))
        return rest

    def close(self) -> None:
        for client in list(self._unix_clients.values()):
            self._drop(client)
        if self._accept is not None:
            self._accept.setEnabled(False)
            self._accept = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            if self._path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self._path)  # as QLocalServer.close() does
                self._path = None
        self._close_qt()

    # -- Windows: Qt's local server (a named pipe) -----------------------------------

    def _ask_qt(self, timeout_ms: int) -> bool:  # pragma: no cover - Windows only
        from PySide6.QtNetwork import QLocalSocket

        sock = QLocalSocket()
        sock.connectToServer(self.key)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(_SHOW)
        sock.flush()
        sock.waitForBytesWritten(timeout_ms)
        sock.disconnectFromServer()
        return True

    def _listen_qt(self) -> bool:  # pragma: no cover - Windows only
        from PySide6.QtNetwork import QLocalServer

        server = QLocalServer()
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.key):
            QLocalServer.removeServer(self.key)
            if not server.listen(self.key):
                return False
        server.newConnection.connect(self._on_qt_connection)
        self._server = server
        return True

    def _on_qt_connection(self) -> None:  # pragma: no cover - Windows only
        from PySide6.QtNetwork import QLocalSocket

        server = self._server
        while server is not None and server.hasPendingConnections():
            sock: QLocalSocket | None = server.nextPendingConnection()
            if not isinstance(sock, QLocalSocket):
                break
            # Ours to delete (not the server's), so closing the server cannot
            # leave a dangling socket behind a queued signal.
            sock.setParent(None)
            self._clients.add(sock)
            sock.readyRead.connect(lambda *_, s=sock: self._read_qt(s))
            sock.disconnected.connect(lambda *_, s=sock: self._drop_qt(s))
            if sock.bytesAvailable():
                self._read_qt(sock)

    def _read_qt(self, sock: QLocalSocket) -> None:  # pragma: no cover - Windows only
        rest = self._take(self._pending.pop(sock, b"") + bytes(sock.readAll().data()))
        if len(rest) > _MAX_PENDING:
            sock.abort()
        elif rest:
            self._pending[sock] = rest

    def _drop_qt(self, sock: QLocalSocket) -> None:  # pragma: no cover - Windows only
        if sock in self._clients:
            self._clients.discard(sock)
            self._pending.pop(sock, None)
            sock.deleteLater()

    def _close_qt(self) -> None:
        for sock in list(self._clients):  # pragma: no cover - Windows only
            sock.abort()
            sock.deleteLater()
        self._clients.clear()
        self._pending.clear()
        if self._server is not None:  # pragma: no cover - Windows only
            self._server.close()
            self._server.deleteLater()
            self._server = None
