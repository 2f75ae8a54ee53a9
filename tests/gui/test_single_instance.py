"""The single-instance socket on POSIX (gui/single_instance.py: the standard library's
``socket`` with a QSocketNotifier, at QLocalServer's path, without QtNetwork)."""

from __future__ import annotations

import os
import socket
import stat
import uuid
from typing import Any

from PySide6.QtCore import QCoreApplication

from mcp_auth_desktop.bridge.appipc import socket_path
from mcp_auth_desktop.gui.single_instance import SingleInstance


def _key() -> str:
    return f"mcp-auth-test-{uuid.uuid4().hex[:12]}"


def test_the_socket_is_the_users_alone_and_gone_after_close() -> None:
    key = _key()
    first = SingleInstance(key)
    assert first.listen()
    try:
        mode = os.lstat(socket_path(key)).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) & 0o077 == 0, oct(mode)
    finally:
        first.close()
    assert not os.path.lexists(socket_path(key))


def test_a_stale_socket_is_replaced_and_answered(qtbot: Any) -> None:
    key = _key()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(socket_path(key))  # a crashed run's: bound, nobody listening
    stale.close()
    assert not SingleInstance(key).ask_running_instance(timeout_ms=200)
    first = SingleInstance(key)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.showRequested, timeout=3000):
            assert SingleInstance(key).ask_running_instance()
    finally:
        first.close()


def test_lines_split_across_writes_and_a_client_that_never_ends_a_line(qtbot: Any) -> None:
    key = _key()
    first = SingleInstance(key)
    assert first.listen()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(socket_path(key))
            with qtbot.waitSignal(first.signInRequested, timeout=3000) as got:
                sock.sendall(b"signin abc")
                qtbot.wait(50)
                sock.sendall(b"123 mcp:read\n")
            assert got.args == ["abc123", ["mcp:read"]]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as flood:
            flood.connect(socket_path(key))
            flood.sendall(b"x" * 5000)  # more than 4096 bytes without a line break
            flood.settimeout(3)
            qtbot.waitUntil(lambda: _closed_by_peer(flood), timeout=3000)
        QCoreApplication.processEvents()
        with qtbot.waitSignal(first.showRequested, timeout=3000):
            assert SingleInstance(key).ask_running_instance()  # still serving others
    finally:
        first.close()


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        sock.setblocking(False)
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
