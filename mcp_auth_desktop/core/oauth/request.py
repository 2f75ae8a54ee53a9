"""The request description every protocol step returns; nothing here does I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

__all__ = ["FORM_CONTENT_TYPE", "HttpRequest"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class HttpRequest:
    """A request to send; headers and body stay out of ``repr`` (they carry secrets)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)
    json: Mapping[str, Any] | None = field(default=None, repr=False)

    def httpx_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.AsyncClient.build_request`` / ``fetch_json``."""
        kw: dict[str, Any] = {"headers": dict(self.headers)}
        if self.form is not None:
            kw["content"] = urlencode(dict(self.form)).encode("ascii")
        elif self.json is not None:
            kw["json"] = dict(self.json)
        return kw
