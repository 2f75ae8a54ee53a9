"""Discovery: from an MCP server URL (and maybe a 401 challenge) to a :class:`Discovery`.

Order, per MCP 2026-07-28 "Authorization Server Discovery":

1. Protected resource metadata (RFC 9728): the challenge's
   ``resource_metadata`` URL, then the path-inserted well-known URL, then the
   root one. A document whose ``resource`` does not cover the server stops
   everything (no authorization request may follow).
2. Authorization server metadata for each listed issuer, from the 3 (issuer
   with a path) or 2 (without) well-known URLs; the first valid document wins.
3. No PRM at all (only 4xx answers): the 2025-03-26 rules, i.e. AS
   metadata at the MCP server's origin, else the default ``/authorize``,
   ``/token`` and ``/register`` endpoints there.

Every URL goes through :func:`~.http.fetch_json` with the server's
:class:`~.urls.UrlGuard`. The ``trail`` records what was tried, for the
GUI's details pane and bug reports; it holds URLs without queries and never
a secret.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from .errors import (
    DiscoveryError,
    InsecureUrlError,
    McpAuthError,
    MetadataError,
    NetworkError,
    NotJsonError,
    ServerUnavailableError,
)
from .http import fetch_json
from .metadata import (
    as_metadata_urls,
    legacy_as_metadata,
    parse_as_metadata,
    parse_protected_resource_metadata,
    prm_urls,
)
from .models import (
    AuthServerMetadata,
    Discovery,
    ProtectedResourceMetadata,
    ServerConfig,
    SystemClock,
)
from .ports import Clock
from .urls import Resolver, UrlGuard, canonical_resource_uri, origin_of, redact_url

__all__ = ["ChallengeLike", "challenge_fields", "discover", "fetch_as_metadata"]

log = logging.getLogger(__name__)


def _same_origin(a: str, b: str) -> bool:
    try:
        return origin_of(a) == origin_of(b) and urlsplit(a).scheme == urlsplit(b).scheme
    except InsecureUrlError:
        return False


class ChallengeLike(Protocol):
    """What discovery reads from a parsed ``WWW-Authenticate: Bearer`` challenge."""

    @property
    def resource_metadata(self) -> str | None: ...

    @property
    def scope(self) -> tuple[str, ...] | None: ...


def challenge_fields(challenge: Any) -> tuple[str | None, tuple[str, ...] | None]:
    """``(resource_metadata, scopes)`` from a BearerChallenge or a raw Challenge (or None)."""
    if challenge is None:
        return None, None
    if hasattr(challenge, "resource_metadata"):
        rm = challenge.resource_metadata
        scope = getattr(challenge, "scope", None)
        if isinstance(scope, str):
            scope = tuple(s for s in scope.split(" ") if s)
        return (rm if isinstance(rm, str) and rm else None), (tuple(scope) if scope else None)
    params = getattr(challenge, "params", None)
    if isinstance(params, dict):
        rm = params.get("resource_metadata")
        sc = params.get("scope")
        scopes = tuple(s for s in sc.split(" ") if s) if isinstance(sc, str) else None
        return (rm if isinstance(rm, str) and rm else None), (scopes or None)
    return None, None


async def discover(
    http: httpx.AsyncClient,
    server: ServerConfig,
    *,
    challenge: Any = None,
    clock: Clock | None = None,
    resolver: Resolver | None = None,
) -> Discovery:
    """Run discovery for one server; raise a typed error when no usable metadata exists."""
    clock = clock or SystemClock()
    guard = UrlGuard.for_server(server.url, server.options, resolver=resolver)
    guard.check_server_url()
    header_url, challenge_scopes = challenge_fields(challenge)
    trail: list[str] = []

    prm = await _fetch_prm(http, server.url, header_url, guard, trail)
    meta: AuthServerMetadata | None = None
    if prm is not None:
        last_error: Exception | None = None
        for issuer in prm.authorization_servers:
            try:
                meta = await fetch_as_metadata(http, issuer, guard, trail)
            except (MetadataError, NetworkError, InsecureUrlError) as exc:
                last_error = exc
                continue
            if meta is not None:
                break
            trail.append(f"no metadata found for authorization server {redact_url(issuer)}")
        if meta is None:
            if last_error is not None:
                raise last_error
            names = ", ".join(redact_url(i) for i in prm.authorization_servers[:3])
            raise DiscoveryError(
                f"The MCP server names the authorization server {names}, but it publishes no "
                "authorization server metadata (every well-known URL answered 'not found')."
            )
        resource = prm.resource
    else:
        # 2025-03-26 servers: no PRM; the MCP origin is the authorization server.
        origin = origin_of(server.url)
        trail.append("no protected resource metadata; trying 2025-03-26 rules at the server origin")
        meta = await fetch_as_metadata(http, origin, guard, trail, same_origin_issuer=True)
        if meta is None:
            meta = legacy_as_metadata(server.url)
            trail.append("no authorization server metadata; using default /authorize, /token, /register")
        resource = canonical_resource_uri(server.url)
    trail.append(f"authorization server: {meta.issuer}")
    return Discovery(
        resource=resource,
        auth_server=meta,
        protected_resource=prm,
        challenge_scopes=challenge_scopes,
        trail=tuple(trail),
        discovered_at=clock.time(),
    )


async def _fetch_prm(
    http: httpx.AsyncClient,
    server_url: str,
    header_url: str | None,
    guard: UrlGuard,
    trail: list[str],
) -> ProtectedResourceMetadata | None:
    """The first valid PRM, or None when the server offers none at all.

    "Offers none" means every well-known URL answered "not here": a 4xx,
    an empty body, or a web app's HTML page. Anything else stops discovery
    at once with its own reason (refused address, network failure, size
    limit, compression bomb, redirect loop, broken JSON): an unreachable or
    hostile server must not look like a 2025-03-26 server, which would send
    the user on to guessed endpoints at the origin.

    When the server's 401 named a ``resource_metadata`` URL, that URL is the
    only one used: if it cannot be used, that is the answer (MCP 2026-07-28
    tells clients to use it; falling back to the well-known URLs after a
    refusal would silently override the server's own statement).
    """
    if header_url is not None:
        return await _fetch_named_prm(http, server_url, header_url, guard, trail)
    for url in prm_urls(server_url, None):
        fetched = await _fetch_well_known(http, url, guard, trail, "protected resource metadata")
        if fetched is None:
            continue
        response, body = fetched
        if response.status_code == 200 and body is not None:
            # A mismatched resource stops discovery here (MetadataError propagates).
            return parse_protected_resource_metadata(body, server_url, guard=guard)
    return None


async def _fetch_named_prm(
    http: httpx.AsyncClient,
    server_url: str,
    url: str,
    guard: UrlGuard,
    trail: list[str],
) -> ProtectedResourceMetadata:
    """The PRM at the URL the server's 401 named; every failure is final."""
    what = "the protected resource metadata the server's 401 names"
    try:
        response, body = await fetch_json(
            http, "GET", url, guard=guard, purpose="protected resource metadata"
        )
    except McpAuthError as exc:
        trail.append(f"GET {redact_url(url)} (named in WWW-Authenticate): {exc.user_message}")
        raise _in_context(exc, f"Could not use {what}") from None
    trail.append(f"GET {redact_url(url)} (named in WWW-Authenticate): HTTP {response.status_code}")
    if response.status_code != 200 or body is None:
        answer = "an empty body" if response.status_code == 200 else f"HTTP {response.status_code}"
        raise MetadataError(f"Could not use {what}: {redact_url(url)} answered {answer}.")
    return parse_protected_resource_metadata(body, server_url, guard=guard)


async def _fetch_well_known(
    http: httpx.AsyncClient, url: str, guard: UrlGuard, trail: list[str], purpose: str
) -> tuple[httpx.Response, dict[str, Any] | None] | None:
    """One well-known metadata URL, recorded in ``trail``; None when it is not metadata.

    "Not metadata" is a body that is not JSON (a web app's HTML page). Network
    failures, refused addresses, size limits, bombs, redirect loops and 5xx
    answers raise: the reason is the answer, not "no metadata was found".
    """
    try:
        response, body = await fetch_json(http, "GET", url, guard=guard, purpose=purpose)
    except NotJsonError as exc:
        trail.append(f"GET {redact_url(url)}: not metadata ({exc.user_message})")
        return None
    except McpAuthError as exc:
        trail.append(f"GET {redact_url(url)}: {exc.user_message}")
        raise
    trail.append(f"GET {redact_url(url)}: HTTP {response.status_code}")
    _refuse_server_error(response.status_code, url)
    return response, body


def _refuse_server_error(status: int, url: str) -> None:
    """A 5xx is a failing server, not a server without metadata: no fallback after it."""
    if status >= 500:
        raise ServerUnavailableError(
            f"{redact_url(url)} answered HTTP {status} (a server error); try again later."
        )


def _in_context(exc: McpAuthError, prefix: str) -> McpAuthError:
    """The same kind of error with a prefix saying which step failed."""
    try:
        return type(exc)(f"{prefix}: {exc.user_message}")
    except TypeError:  # an error class with a richer constructor: keep it as it is
        return exc


async def fetch_as_metadata(
    http: httpx.AsyncClient,
    issuer: str,
    guard: UrlGuard,
    trail: list[str],
    *,
    same_origin_issuer: bool = False,
) -> AuthServerMetadata | None:
    """First valid AS metadata for ``issuer``; None if none exists; raises the last
    validation error when documents were found but none could be used.

    ``same_origin_issuer`` is for 2025-03-26 servers only: their metadata sits
    at the MCP origin but may name an issuer with a path on that same origin
    (e.g. ``https://mcp.example.com/oauth``). That revision had no issuer
    binding; accepting only the same origin keeps the document tied to the
    server the user chose. The document's issuer is then the one recorded
    (and later compared with ``iss`` byte for byte).
    """
    guard.check_syntax(issuer, "authorization server")
    last_error: MetadataError | None = None
    for url in as_metadata_urls(issuer):
        fetched = await _fetch_well_known(http, url, guard, trail, "authorization server metadata")
        if fetched is None:
            continue
        response, body = fetched
        if response.status_code != 200 or body is None:
            continue
        expected = issuer
        claimed = body.get("issuer")
        if (
            same_origin_issuer
            and isinstance(claimed, str)
            and claimed != issuer
            and _same_origin(claimed, issuer)
        ):
            trail.append(f"  2025-03-26 server: using its issuer {redact_url(claimed)}")
            expected = claimed
        try:
            return parse_as_metadata(body, expected, guard=guard)
        except MetadataError as exc:
            # RFC 8414 §3.3: a document for another issuer is not used; try the next URL.
            last_error = exc
            trail.append(f"  rejected: {exc.user_message}")
    if last_error is not None:
        raise last_error
    return None
