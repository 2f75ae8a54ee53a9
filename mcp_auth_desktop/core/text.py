"""Text that came from a server, made safe to log and show.

A leaf module (it imports nothing of the app) so that both the error tree
(``core.errors``) and the parsers that feed it (``core.www_authenticate``)
can use it without importing each other.
"""

from __future__ import annotations

import re

__all__ = ["sanitize_server_text"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MAX_SERVER_TEXT = 300


def sanitize_server_text(text: object, limit: int = _MAX_SERVER_TEXT) -> str:
    """Make text that came from a server safe to log and show.

    Control characters (CR/LF included) become spaces so a hostile
    ``error_description`` cannot forge a log line; the length is capped.
    """
    s = _CONTROL.sub(" ", str(text))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s
