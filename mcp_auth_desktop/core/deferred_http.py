"""The shared HTTP client, made on its first use.

The desktop app opens its runtime (the manager, the vault, the HTTP client) at start,
but the first request may come minutes later (the first refresh, a sign-in) or never
in a session. ``import httpx`` alone loads http.client, http.cookiejar, urllib.request
and the email package: some 3.4 MiB resident (issue 17, bench/bench_gui.py). So the
runtime (``runtime.make_http``) hands out a :class:`DeferredClient`, which makes the
real ``httpx.AsyncClient`` (``core/http.py``'s ``make_http_client``) when one of its
attributes is first read, and forwards every attribute to it from then on.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["DeferredClient"]

_OWN = frozenset({"_make", "_client", "_closed"})


class DeferredClient:
    """Stands for an ``httpx.AsyncClient`` until it is used; then is it, attribute for
    attribute. Closing it before any use closes nothing (and it stays closed: a later
    use raises ``RuntimeError`` as a closed httpx client does)."""

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self._make = make
        self._client: httpx.AsyncClient | None = None
        self._closed = False

    @property
    def client(self) -> httpx.AsyncClient:
        """The real client, made now if it was not yet."""
        if self._client is None:
            if self._closed:
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            self._client = self._make()
        return self._client

    @property
    def made(self) -> bool:
        """Whether the real client has been made (httpx loaded)."""
        return self._client is not None

    @property
    def is_closed(self) -> bool:
        return self._closed if self._client is None else self._client.is_closed

    def __getattr__(self, name: str) -> object:
        # Only for names not found on this object: everything the real client has.
        if name in _OWN or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(self.client, name)

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> DeferredClient:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self.aclose()
