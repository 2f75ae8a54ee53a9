"""Reading ``text/event-stream`` response bodies, on httpx-sse's decoders.

httpx-sse splits lines on CR, LF and CRLF only (not on the other Unicode line
breaks ``str.splitlines`` knows) and interprets fields as the WHATWG HTML
standard says (§9.2.6). Around it this module adds what a client facing an
untrusted server needs:

* the stream is always decoded as UTF-8 with replacement characters, whatever
  ``charset`` the server names, and a leading byte-order mark is dropped (both
  as the standard requires);
* a line or one event's data over ``max_event_bytes`` raises
  :class:`~..errors.ResponseTooLargeError`;
* an event is dispatched only when it had ``data`` lines; a blank line after
  only ``id:``/``retry:`` updates the last event id and the retry delay
  without an event (httpx-sse would dispatch an empty one);
* ``retry:`` values other than ASCII digits, or over 999,999,999 ms, are ignored;
* :func:`last_event_id_header` refuses, with a typed error, an event id that
  cannot travel back in a ``Last-Event-ID`` header; any other id (non-ASCII
  included) is sent as its UTF-8 bytes, as browsers do.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# httpx-sse keeps its decoders in a private module; its public EventSource reads a
# whole httpx response and cannot be fed incrementally or capped. The version is pinned.
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from ..errors import ResponseTooLargeError, SseStreamError

__all__ = ["SseEvent", "SseParser", "last_event_id_header", "MAX_RETRY_MS"]

MAX_RETRY_MS = 999_999_999
_BOM = "\ufeff"


@dataclass(frozen=True)
class SseEvent:
    """One dispatched Server-Sent Event."""

    data: str
    event: str = "message"
    id: str | None = None


class SseParser:
    """Incremental parser: feed it bytes as they arrive, get the events completed so far."""

    def __init__(self, max_event_bytes: int) -> None:
        self._max = max_event_bytes
        self._id: str | None = None
        self._retry: int | None = None
        #: Data characters dispatched so far, over every stream fed to this parser.
        self.dispatched_bytes = 0
        self._reset()

    def _reset(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines = SSELineDecoder()
        self._events = SSEDecoder()
        if self._id:
            # A resumed stream keeps the last event id (the decoder would forget it).
            self._events.decode(f"id:{self._id}")
        self._first = True
        self._open_line = 0  # characters since the last line break
        self._data_size = 0  # data characters of the event being built
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        text = self._text.decode(chunk)
        if self._first and text:
            self._first = False
            text = text.removeprefix(_BOM)
        if not text:
            return []
        cut = max(text.rfind("\n"), text.rfind("\r"))
        self._open_line = self._open_line + len(text) if cut < 0 else len(text) - cut - 1
        if self._open_line > self._max:
            raise ResponseTooLargeError(f"An event from the MCP server is larger than {self._max} bytes.")
        out: list[SseEvent] = []
        for line in self._lines.decode(text):
            self._line(line, out)
        return out

    def close(self) -> list[SseEvent]:
        """End of one stream: the events a final CR completed; an unfinished one is discarded.

        A CR at the very end was held back (it may have been the first half of a
        CRLF); at the end of the stream it ends its line. A line without any
        line break is incomplete and dropped, as is an event without its blank
        line (both per the standard). The last event id and the retry delay
        survive, for a resumed stream.
        """
        out: list[SseEvent] = []
        if self._lines.trailing_cr:
            for line in self._lines.flush():
                self._line(line, out)
        self._reset()
        return out

    @property
    def last_event_id(self) -> str | None:
        """The last event id dispatched (the Last-Event-ID to resume with), if any."""
        return self._id or None

    @property
    def retry_ms(self) -> int | None:
        """The server's reconnection delay from the last ``retry:`` field, if any."""
        return self._retry

    def _line(self, line: str, out: list[SseEvent]) -> None:
        if line.startswith("retry"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry" and not (value.isascii() and value.isdigit()):
                return  # only ASCII digits count; int() would also take "٣" (audit F-1)
        if line.startswith("data"):
            name = line.partition(":")[0]
            if name == "data":
                self._has_data = True
                self._data_size += len(line) - 4
                if self._data_size > self._max:
                    raise ResponseTooLargeError(
                        f"An event from the MCP server is larger than {self._max} bytes."
                    )
        sse = self._events.decode(line)
        if sse is None:
            return
        self._id = sse.id or None  # an empty id: field resets it, as the standard says
        if sse.retry is not None and 0 <= sse.retry <= MAX_RETRY_MS:
            self._retry = sse.retry
        had_data, self._has_data, self._data_size = self._has_data, False, 0
        if had_data:
            out.append(SseEvent(sse.data, sse.event or "message", sse.id or None))
            self.dispatched_bytes += len(sse.data) + 1


def last_event_id_header(event_id: str, where: str) -> bytes:
    """The ``Last-Event-ID`` header value for ``event_id``, or SseStreamError.

    HTTP field values (RFC 9110 §5.5) may carry visible ASCII, spaces and tabs
    inside, and obs-text bytes (0x80-0xFF); the id goes out as its UTF-8 bytes.
    Control characters, or surrounding whitespace that HTTP would strip, would
    not reach the server intact: such an id cannot be resumed from.
    """
    raw = event_id.encode("utf-8", errors="strict") if _encodable(event_id) else None
    if (
        raw is None
        or raw != raw.strip(b" \t")
        or any(b < 0x20 and b != 0x09 or b == 0x7F for b in raw)
    ):
        raise SseStreamError(
            f"The MCP server at {where} ended its event stream early and named an event id "
            "that cannot be sent back in a Last-Event-ID header, so the stream cannot be resumed."
        )
    return raw


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8", errors="strict")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True
