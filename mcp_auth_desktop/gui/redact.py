"""Masking of anything that looks like a secret before it is shown or logged.

Manager events carry no secrets by contract; this is the second fence, for
text that came from servers and for tokens the GUI itself handled (the
clipboard registers every token it copies, so an exact match is masked too).
"""

from __future__ import annotations

import re
import threading

__all__ = ["Redactor", "MASK"]

MASK = "«redacted»"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JWTs (header.payload.signature)
    (re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w\-.~+/=]{8,}"), r"\1 " + MASK),
    # key=value in query strings and forms
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|id_token|code|code_verifier|client_secret"
            r"|registration_access_token|password|passphrase|token)=([^&\s\"']+)"
        ),
        r"\1=" + MASK,
    ),
    # "key": "value" in JSON
    (
        re.compile(
            r"(?i)\"(access_token|refresh_token|id_token|code_verifier|client_secret"
            r"|registration_access_token|password)\"\s*:\s*\"[^\"]*\""
        ),
        r'"\1": "' + MASK + '"',
    ),
    # long opaque strings that are not URLs or paths
    (re.compile(r"(?<![\w/:.\-])[A-Za-z0-9_\-~+]{40,}={0,2}(?![\w/])"), MASK),
)


class Redactor:
    """Replaces known secrets and secret-looking text with a mask."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, secret: str) -> None:
        """Mask this exact value from now on (tokens the GUI copied)."""
        if len(secret) >= 8:
            with self._lock:
                self._known.add(secret)

    def __call__(self, text: str) -> str:
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)
        for secret in known:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text
