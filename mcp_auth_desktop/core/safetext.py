"""Text that came from a server, made harmless for a terminal or a log (issue 15 #5).

A ``client_id``, a scope, a server name or an error description can carry
terminal control sequences: ``ESC [ 2 J`` clears the screen, ``ESC ] 8 ;;``
(OSC 8) makes a hidden hyperlink, ``\\r`` overwrites what was printed,
U+202E (RIGHT-TO-LEFT OVERRIDE) and its relatives reorder what the reader
sees, NUL and C1 controls (``\\x9b`` is a one-byte CSI on some terminals)
confuse the rest. :func:`terminal_safe` is the one function that neutralises
them, by writing each such character as its ``\\uXXXX`` escape:

* the escape is visible, so nothing is silently dropped from what the user reads;
* inside a JSON string it is a valid JSON escape of the very same character,
  so ``--json`` output stays valid JSON and decodes to the original value.

It is applied by :class:`SafeTextStream` (around the CLI's stdout and
stderr, so every ``print`` goes through it), by :class:`SafeFormatter` (every
log line of the CLI and the app), and to each value by ``cli.render``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import IO, Any

__all__ = ["terminal_safe", "SafeFormatter", "SafeTextStream"]

# C0 and C1 controls and DEL, line/paragraph separators, and the format
# characters that change how text is shown (bidirectional overrides and
# isolates, zero-width characters, the byte-order mark, interlinear
# annotation, Unicode tags).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:  # a surrogate pair, as JSON writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def terminal_safe(text: object, *, keep: str = "") -> str:
    """``text`` with every control or display-changing character written as ``\\uXXXX``.

    ``keep`` names characters to pass through (``"\\n"`` for multi-line text
    we wrote ourselves); server values are escaped whole, newlines included.
    """
    s = str(text)

    def sub(m: re.Match[str]) -> str:
        ch = m.group(0)
        return ch if ch in keep else _escape(ch)

    s = _UNSAFE.sub(sub, s)
    if s.isascii():
        return s
    # Any other format character (Unicode category Cf) a future Unicode adds.
    return "".join(_escape(c) if unicodedata.category(c) == "Cf" and c not in keep else c for c in s)


class SafeFormatter(logging.Formatter):
    """A formatter whose message is escaped whole (a server's newline cannot forge a
    line), while the traceback we append keeps its own newlines."""

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg = terminal_safe(record.getMessage())
        safe.args = None
        return terminal_safe(super().format(safe), keep="\n")


class SafeTextStream:
    """Wraps a text stream; everything written goes through :func:`terminal_safe`,
    keeping newlines and tabs (the layout of our own output)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text, keep="\n\t"))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        # flush, isatty, fileno, encoding, buffer...: those of the wrapped stream.
        return getattr(self._stream, name)
