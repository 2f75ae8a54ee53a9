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

import email.utils
import math
import ssl
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from . import jsonutil
from .errors import InvalidJsonError, NetworkError, ProtocolError, ResponseTooLargeError
from .urls import UrlGuard, redact_url

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_REDIRECTS",
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
RETRY_AFTER_CAP = 300.0
USER_AGENT = "mcp-auth-desktop/0.1"
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


def make_http_client(
    *, timeout: float = 15.0, verify: bool | ssl.SSLContext = True
) -> httpx.AsyncClient:
    """The one ``AsyncClient`` the application shares.

    ``trust_env`` keeps ``HTTPS_PROXY``/``NO_PROXY`` and ``SSL_CERT_FILE``/
    ``SSL_CERT_DIR`` working for corporate networks; redirects are off
    because :func:`fetch_json` checks each hop itself.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        verify=verify,
        trust_env=True,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30.0),
        headers={"User-Agent": USER_AGENT},
    )


def network_error(exc: Exception, url: str) -> NetworkError:
    """A NetworkError for an httpx failure, naming only the origin and path."""
    where = redact_url(url)
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"Timed out talking to {where}.")
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return NetworkError(
            f"The TLS certificate of {where} could not be verified (set SSL_CERT_FILE for a "
            "private certificate authority)."
        )
    if isinstance(exc, httpx.ProxyError):
        return NetworkError(f"The proxy refused the connection to {where}.")
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"Could not connect to {where}.")
    return NetworkError(f"The connection to {where} failed ({type(exc).__name__}).")


async def read_capped(response: httpx.Response, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """Read a streamed body, stopping as soon as raw or decoded size passes the cap."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isascii() and declared.strip().isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(
            f"The response from {redact_url(str(response.request.url))} is larger than "
            f"{max_bytes} bytes."
        )
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes or response.num_bytes_downloaded > max_bytes:
            raise ResponseTooLargeError(
                f"The response from {redact_url(str(response.request.url))} is larger than "
                f"{max_bytes} bytes."
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
    current = url
    for hop in range(max_redirects + 1):
        await guard.check_endpoint(current, purpose)
        request = http.build_request(method, current, headers=headers, **kwargs)
        try:
            response = await http.send(request, stream=True)
            try:
                body = await read_capped(response, max_bytes)
            finally:
                await response.aclose()
        except httpx.DecodingError:
            raise ProtocolError(
                f"The response from {redact_url(current)} could not be decoded."
            ) from None
        except httpx.TransportError as exc:
            raise network_error(exc, current) from None
        if response.status_code in _REDIRECT_CODES and method in ("GET", "HEAD"):
            location = response.headers.get("location")
            if not location:
                raise ProtocolError(f"{redact_url(current)} redirected without a Location.")
            if hop == max_redirects:
                raise ProtocolError(
                    f"Too many redirects (more than {max_redirects}) starting at {redact_url(url)}."
                )
            nxt = urljoin(current, location)
            if not _same_origin(nxt, current):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
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
            raise InvalidJsonError(
                f"{redact_url(url)} answered with {content_type.split(';')[0][:60]!r} instead of JSON."
            )
        return jsonutil.loads_object(body)
    try:
        return jsonutil.loads_object(body)
    except InvalidJsonError:
        return None


def parse_retry_after(
    value: str | None, *, now: float | None = None, cap: float = RETRY_AFTER_CAP
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Capped at ``cap`` so a hostile ``10^9`` cannot park a server forever;
    garbage or negative values give ``None`` (the caller's own backoff applies).
    """
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    if v.isascii() and v.isdigit():
        return min(float(int(v[:12])), cap)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(delta):
        return None
    return min(max(delta, 0.0), cap)
