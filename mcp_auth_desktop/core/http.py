"""The shared HTTP client and the one way the core fetches JSON from servers.

:func:`fetch_json` is the choke point for every request to a URL learned
from a server: it re-checks each URL (and each redirect hop) with the
:class:`~.urls.UrlGuard`, caps the body (raw *and* decoded, so a gzip bomb
stops at the cap), maps httpx failures to :class:`~.errors.NetworkError`
with messages that carry no query string or body, and parses strictly.

Redirects are followed by hand, at most three hops, and only for GET/HEAD:
a token or registration POST that redirects is an error, never a reason to
send credentials somewhere else.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from . import jsonutil
from .errors import (
    CompressionBombError,
    ConnectionRefused,
    HostNotFoundError,
    InvalidJsonError,
    NetworkError,
    NotJsonError,
    ProtocolError,
    RedirectError,
    ResponseTooLargeError,
    TlsError,
    sanitize_server_text,
)
from .retry_after import RETRY_AFTER_CAP, parse_retry_after
from .tls_trust import shared_trust_context
from .transport_guard import PIN_EXTENSION, PinnedTransport, check_plain_http, refuse_plain_http
from .urls import UrlGuard, redact_url

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_REDIRECTS",
    "FETCH_DEADLINE",
    "RETRY_AFTER_CAP",
    "USER_AGENT",
    "make_http_client",
    "fetch_json",
    "read_capped",
    "parse_retry_after",
    "network_error",
]

MAX_BODY_BYTES = 1_048_576
MAX_REDIRECTS = 3
#: The most one fetch (all its redirect hops and its body) may take in all. The
#: client's own timeouts bound each read; this bounds a server that drips
#: bytes slowly forever.
FETCH_DEADLINE = 30.0
USER_AGENT = "mcp-auth-desktop/0.1"
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


def make_http_client(
    *, timeout: float = 15.0, verify: bool | ssl.SSLContext = True
) -> httpx.AsyncClient:
    """The one ``AsyncClient`` the application shares.

    ``trust_env`` keeps ``HTTPS_PROXY``/``NO_PROXY`` and ``SSL_CERT_FILE``/
    ``SSL_CERT_DIR`` working for corporate networks; redirects are off
    because :func:`fetch_json` checks each hop itself. ``verify=True`` is the
    context every client shares (``core/tls_trust.py``): the same verification as
    httpx's own, its CA certificates read on the first TLS connection, not here.
    """
    if verify is True:
        verify = shared_trust_context()
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30.0)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        verify=verify,
        trust_env=True,
        follow_redirects=False,
        limits=limits,
        headers={"User-Agent": USER_AGENT},
        # Where requests leave the process: plain http only to loopback, and the
        # addresses the URL guard checked are the ones dialled (core/transport_guard.py).
        # The connection pool (and with it httpcore, h11, anyio) is made on the first request.
        transport=PinnedTransport(lambda: httpx.AsyncHTTPTransport(verify=verify, limits=limits,
                                                                   trust_env=True)),
        event_hooks={"request": [refuse_plain_http]},
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it was raised from (causes, contexts, groups)."""
    out: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(out) < 32:
        e = todo.pop(0)
        if any(e is seen for seen in out):
            continue
        out.append(e)
        todo.extend(getattr(e, "exceptions", ()) or ())
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                todo.append(nxt)
    return out


def _host_port(url: str) -> tuple[str, str]:
    """``(host, host:port)`` of a URL for messages; IPv6 hosts in brackets."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "?")[:100]
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return "?", "?"
    shown = f"[{host}]" if ":" in host else host
    return host, f"{shown}:{port}"


def network_error(exc: Exception, url: str) -> NetworkError:
    """A typed NetworkError for an httpx failure, naming the cause and the host.

    The cause is looked up along the exception chain (httpx wraps httpcore,
    which wraps the socket or TLS error): a DNS failure, a refused
    connection and a TLS failure each get their own class and words, so the
    user reads "connection refused by 127.0.0.1:9", not "could not connect".
    Only the origin and path of the URL appear, never a query.
    """
    where = redact_url(url)
    host, netloc = _host_port(url)
    if isinstance(exc, httpx.TimeoutException):
        kind = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        return NetworkError(f"Timed out {kind} {netloc} ({where}).")
    chain = _chain(exc)
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            return HostNotFoundError(
                f"The host name {host} could not be resolved (DNS lookup failed) for {where}."
            )
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = sanitize_server_text(cause.verify_message or cause.reason or "unknown reason", 120)
            return TlsError(
                f"The TLS certificate of {netloc} could not be verified ({reason}) for {where}. "
                "For a private certificate authority set SSL_CERT_FILE."
            )
        if isinstance(cause, ssl.SSLError):
            reason = sanitize_server_text(cause.reason or type(cause).__name__, 120)
            return TlsError(f"The TLS handshake with {netloc} failed ({reason}) for {where}.")
        if isinstance(cause, ConnectionRefusedError):
            return ConnectionRefused(
                f"Connection refused by {netloc}: nothing is listening there ({where})."
            )
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return TlsError(
            f"The TLS certificate of {netloc} could not be verified for {where}. "
            "For a private certificate authority set SSL_CERT_FILE."
        )
    if isinstance(exc, httpx.ProxyError):
        return NetworkError(f"The proxy refused the connection to {netloc} ({where}).")
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"Could not connect to {netloc} ({where}).")
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(f"{netloc} closed the connection or broke HTTP ({where}).")
    return NetworkError(f"The connection to {netloc} failed ({type(exc).__name__}) for {where}.")


async def read_capped(response: httpx.Response, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """Read a streamed body, stopping as soon as raw or decoded size passes the cap.

    The three ways a body can be too big get their own words: a declared
    ``Content-Length`` over the cap (refused before reading), a body that
    keeps coming past the cap with no declared length (endless or huge), and
    a compressed body that is small on the wire but expands past the cap (a
    compression bomb; it is never decompressed beyond the cap).
    """
    where = redact_url(str(response.request.url))
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isascii() and declared.strip().isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(
            f"The response from {where} declares {int(declared[:18])} bytes, more than the "
            f"{max_bytes}-byte limit."
        )
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        wire = response.num_bytes_downloaded
        if wire > max_bytes:
            raise ResponseTooLargeError(
                f"The response from {where} went on past the {max_bytes}-byte limit "
                "(too large or endless); it was cut off."
            )
        if total > max_bytes:
            raise CompressionBombError(
                f"The response from {where} is compressed and expands to more than the "
                f"{max_bytes}-byte limit ({wire} bytes on the wire): a compression bomb; "
                "it was not unpacked further."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


async def fetch_json(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    guard: UrlGuard,
    purpose: str = "server",
    max_bytes: int = MAX_BODY_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    json_required: bool = True,
    deadline: float = FETCH_DEADLINE,
    **kwargs: Any,
) -> tuple[httpx.Response, dict[str, Any] | None]:
    """Send one request and return ``(response, parsed JSON object or None)``.

    For a 2xx answer with a body, the body must be a JSON object (else
    :class:`InvalidJsonError`) unless ``json_required`` is false. For other
    statuses the body is parsed when it is JSON and ``None`` otherwise, so
    callers can read OAuth error bodies without tripping over HTML pages.
    ``kwargs`` go to :meth:`httpx.AsyncClient.build_request`.
    """
    method = method.upper()
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    try:
        async with asyncio.timeout(deadline):
            return await _fetch_hops(
                http, method, url, headers, guard, purpose, max_bytes, max_redirects,
                json_required, kwargs,
            )
    except TimeoutError:
        _, netloc = _host_port(url)
        raise NetworkError(
            f"{netloc} did not finish answering within {deadline:g} s ({redact_url(url)})."
        ) from None


async def _fetch_hops(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    guard: UrlGuard,
    purpose: str,
    max_bytes: int,
    max_redirects: int,
    json_required: bool,
    kwargs: dict[str, Any],
) -> tuple[httpx.Response, dict[str, Any] | None]:
    current = url
    visited = [url]
    for hop in range(max_redirects + 1):
        await guard.check_endpoint(current, purpose)
        check_plain_http(current)  # also for clients not made by make_http_client
        pins = guard.checked_addresses(current)
        extensions = {PIN_EXTENSION: pins} if pins else None
        request = http.build_request(method, current, headers=headers, extensions=extensions, **kwargs)
        try:
            response = await http.send(request, stream=True)
            try:
                body = await read_capped(response, max_bytes)
            finally:
                await response.aclose()
        except httpx.DecodingError:
            raise ProtocolError(
                f"The response from {redact_url(current)} could not be decoded "
                "(broken compression or character encoding)."
            ) from None
        except httpx.TransportError as exc:
            raise network_error(exc, current) from None
        if response.status_code in _REDIRECT_CODES and method in ("GET", "HEAD"):
            location = response.headers.get("location")
            if not location:
                raise RedirectError(f"{redact_url(current)} redirected without a Location.")
            nxt = urljoin(current, location)
            if nxt in visited:
                raise RedirectError(
                    f"Redirect loop: {redact_url(current)} redirects back to {redact_url(nxt)}."
                )
            if hop == max_redirects:
                raise RedirectError(
                    f"Too many redirects (more than {max_redirects}) starting at {redact_url(url)}."
                )
            if not _same_origin(nxt, current):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            visited.append(nxt)
            current = nxt
            continue
        return response, _parse_body(response, body, current, json_required)
    raise AssertionError("unreachable")  # pragma: no cover


def _parse_body(
    response: httpx.Response, body: bytes, url: str, json_required: bool
) -> dict[str, Any] | None:
    if not body.strip():
        return None
    ok = 200 <= response.status_code < 300
    content_type = response.headers.get("content-type", "")
    if ok and json_required:
        if content_type and not _is_json_type(content_type):
            raise NotJsonError(
                f"{redact_url(url)} answered with {content_type.split(';')[0][:60]!r} instead of JSON."
            )
        try:
            return jsonutil.loads_object(body)
        except InvalidJsonError as exc:
            # jsonutil does not know where the text came from; the user needs the host.
            raise InvalidJsonError(f"The response from {redact_url(url)}: {exc.user_message}") from None
    try:
        return jsonutil.loads_object(body)
    except InvalidJsonError:
        return None
