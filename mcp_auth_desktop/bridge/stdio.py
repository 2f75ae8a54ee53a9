"""The local side of the bridge: newline-delimited JSON-RPC on stdin and stdout.

stdout carries JSON-RPC messages and nothing else: :func:`claim_stdout` keeps
a private handle on the real stdout and points file descriptor 1 at stderr,
so a stray ``print`` or a library writing to fd 1 cannot corrupt the stream.
stdin is read by a daemon thread (portable: Windows has no async pipes for
the console handles), one line at a time with a size cap.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from typing import Any, BinaryIO

__all__ = ["StdoutWriter", "StdinReader", "claim_stdout", "MAX_LINE_BYTES"]

#: Cap on one message from the client (a line of stdin).
MAX_LINE_BYTES = 4 * 1024 * 1024


def claim_stdout() -> BinaryIO:
    """A private binary handle on stdout; fd 1 (and ``sys.stdout``) now go to stderr."""
    sys.stdout.flush()
    private = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return private


class StdoutWriter:
    """Writes one JSON-RPC message per line; whole lines only, in order, from any task."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.closed = False

    def write(self, message: Any) -> None:
        # ASCII only: a client splitting text lines on U+2028 (as str.splitlines does)
        # must still see one message per line.
        line = json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        with self._lock:
            if self.closed:
                return
            try:
                self._stream.write(line)
                self._stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                # The client went away; the stdin side sees EOF and shuts us down.
                self.closed = True


class StdinReader:
    """Lines from stdin on an asyncio queue; ``None`` marks end of input.

    The thread reads the file descriptor with ``os.read`` (no buffered reader: a
    daemon thread blocked inside one would abort the interpreter at exit). A line
    longer than :data:`MAX_LINE_BYTES` is delivered as ``b""`` (the rest of it
    skipped) so the session can answer with a parse error.
    """

    def __init__(self, fd: int | None = None) -> None:
        self._fd = fd if fd is not None else sys.stdin.fileno()
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="bridge-stdin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _put(self, item: bytes | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:
            pass  # the loop is closed: we are shutting down anyway

    def _run(self) -> None:
        pending = b""
        skipping = False
        try:
            while True:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if skipping:
                        skipping = False  # the end of an oversized line
                    elif len(line) > MAX_LINE_BYTES:
                        self._put(b"")
                    elif line.strip():
                        self._put(line)
                if len(pending) > MAX_LINE_BYTES:
                    if not skipping:
                        self._put(b"")
                    skipping, pending = True, b""
        except OSError:
            pass
        if pending.strip() and not skipping:
            self._put(pending)
        self._put(None)
