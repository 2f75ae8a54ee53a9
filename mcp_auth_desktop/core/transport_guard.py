"""Rules enforced where a request leaves the process, whatever the settings say.

Two guards sit in the shared ``httpx.AsyncClient`` (:func:`.http.make_http_client`),
which every discovery, registration, token, refresh, revocation and MCP request goes
through:

* :func:`refuse_plain_http` (a request event hook, so it also covers requests that
  go through a proxy mount): plain http only to a loopback host (a loopback IP
  literal, ``localhost`` or ``*.localhost``). ``allow_insecure_loopback`` lives in
  the settings file, which anyone who can write the user's files can edit; this
  rule does not read it, so an edited file cannot send a refresh token over plain
  http to another machine (issue 15 #7).
* :class:`PinnedTransport`: when the :class:`~.urls.UrlGuard` resolved a host
  and checked its addresses, the request carries those addresses
  (:data:`PIN_EXTENSION`) and the connection goes to one of them, not to a second
  DNS answer (DNS rebinding, issue 15 #10). The host name stays in the URL the
  server sees (``Host``) and is the TLS server name (SNI and the certificate
  check), so pinning changes where we connect, never whom we verify.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx

from .errors import InsecureUrlError
from .urls import is_loopback_host, redact_url

__all__ = ["PIN_EXTENSION", "PinnedTransport", "check_plain_http", "refuse_plain_http"]

#: Request extension: the addresses the URL guard checked for the request's host.
PIN_EXTENSION = "mcp_auth_desktop.pinned_addresses"


def check_plain_http(url: httpx.URL | str) -> None:
    """Raise :class:`InsecureUrlError` for plain http to a host that is not loopback."""
    url = httpx.URL(url) if isinstance(url, str) else url
    if url.scheme.lower() == "https":
        return
    if url.scheme.lower() == "http" and is_loopback_host(url.host):
        return
    raise InsecureUrlError(
        f"Refused to send a request to {redact_url(str(url))}: requests leave this app only "
        "over https, or plain http to this computer (localhost, 127.0.0.1, [::1]). A settings "
        "file cannot change this."
    )


async def refuse_plain_http(request: httpx.Request) -> None:
    """The request event hook form of :func:`check_plain_http`."""
    check_plain_http(request.url)


class PinnedTransport(httpx.AsyncBaseTransport):
    """Connects to the addresses the URL guard checked, keeping the name for TLS and ``Host``.

    ``inner`` is the transport that connects, or a function making it: then it is made
    on the first request (:attr:`inner`), so a client made at start loads no connection
    pool (httpcore, h11, anyio) and no TLS context before it is used (issue 17).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | Callable[[], httpx.AsyncBaseTransport]) -> None:
        if isinstance(inner, httpx.AsyncBaseTransport):
            self._inner: httpx.AsyncBaseTransport | None = inner
            self._make: Callable[[], httpx.AsyncBaseTransport] | None = None
        else:
            self._inner, self._make = None, inner

    @property
    def inner(self) -> httpx.AsyncBaseTransport:
        """The transport that connects (made now if it was not yet)."""
        if self._inner is None:
            assert self._make is not None
            self._inner = self._make()
        return self._inner

    @property
    def opened(self) -> bool:
        """Whether the connecting transport has been made (by a first request)."""
        return self._inner is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pins = request.extensions.get(PIN_EXTENSION)
        if not pins:
            return await self.inner.handle_async_request(request)
        return await self._send_pinned(request, tuple(pins))

    async def _send_pinned(self, request: httpx.Request, pins: Sequence[str]) -> httpx.Response:
        name = request.url.host
        extensions = {k: v for k, v in request.extensions.items() if k != PIN_EXTENSION}
        if request.url.scheme == "https":
            # The certificate is checked against the name, not the address we dial.
            extensions["sni_hostname"] = name
        failure: httpx.ConnectError | None = None
        for address in pins:
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # carries Host: name[:port] from the original URL
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await self.inner.handle_async_request(pinned)
            except httpx.ConnectError as exc:
                # Nothing was sent; try the next checked address (never a fresh lookup).
                failure = exc
        assert failure is not None
        raise failure

    async def aclose(self) -> None:
        if self._inner is not None:  # a client never used has nothing to close
            await self._inner.aclose()
