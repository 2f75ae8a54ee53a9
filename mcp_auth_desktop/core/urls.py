"""URL rules: canonical resource URIs, the https rule, the SSRF guard, authorization URLs.

Every URL the client *learns from a server* (``resource_metadata``,
``authorization_servers``, endpoints, redirect hops) can be chosen by an
attacker, so it passes :class:`UrlGuard` before any request is made:

* https is required, except plain http to a loopback host when the user opted
  in per server (``allow_insecure_loopback``): a loopback IP literal, or
  ``localhost`` and names under ``.localhost`` (RFC 6761 §6.3), which must
  then resolve to loopback addresses only (:meth:`UrlGuard.check_endpoint`);
* no userinfo, no fragment, no ambiguous numeric host forms
  (``2130706433``, ``0x7f.1``) that browsers and resolvers read as IPs;
* the host's addresses must be public, unless the MCP server itself sits in
  the same kind of network (loopback, private, link-local) or the user
  allowed private networks. The address classes come from ``netpolicy`` (the
  policy the mock server shares): IPv4-mapped, IPv4-compatible, 6to4, NAT64
  and Teredo forms are decided on the IPv4 address they embed. DNS names are
  resolved and *every* address is checked.

DNS rebinding: the addresses a check resolved and allowed are remembered
(:meth:`UrlGuard.checked_addresses`) and :func:`.http.fetch_json` sends the
request to one of them (``core/transport_guard.PinnedTransport``), so a second
DNS answer is never used. Behind a proxy the proxy resolves names.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from netpolicy import AddressClass, IPAddress, classify_address

from .errors import (
    ConfigurationError,
    HostNotFoundError,
    InsecureUrlError,
    NetworkError,
    sanitize_server_text,
)
from .models import ServerOptions

__all__ = [
    "AddressClass",
    "Resolver",
    "UrlGuard",
    "canonical_resource_uri",
    "classify_address",
    "classify_host",
    "check_authorization_url",
    "host_of",
    "is_loopback_host",
    "is_loopback_ip_literal",
    "is_loopback_name",
    "normalize_server_url",
    "same_server_url",
    "origin_of",
    "redact_url",
    "resource_matches",
    "system_resolver",
]

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_URL = 8192
_MAX_AUTHORIZATION_URL = 16384
# RFC 3986 characters minus the ones a shell or a quoting bug could turn
# into something else ($ ( ) ' and the backtick, which is not in RFC 3986).
_AUTHZ_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?\[\]@!&*+,;=%]+$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
# WHATWG URL: a host whose last label is numeric is parsed as an IPv4 number.
_NUMERIC_LABEL = re.compile(r"^(0[xX][0-9A-Fa-f]*|[0-9]+)$")


def _strip_brackets(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _ip_literal(host: str) -> IPAddress | None:
    h = _strip_brackets(host)
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        return None


def is_loopback_ip_literal(host: str) -> bool:
    """True for 127.0.0.0/8 and ::1 written as IP literals (DNS names never count)."""
    ip = _ip_literal(host)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return ip == ipaddress.IPv6Address("::1")
    return ip.is_loopback


def is_loopback_name(host: str) -> bool:
    """``localhost`` or a name under ``.localhost``: loopback by definition (RFC 6761 §6.3).

    Such a name is still resolved before use and must give loopback addresses
    only (a hosts file could say otherwise); see :meth:`UrlGuard.check_endpoint`.
    """
    h = _strip_brackets(host).lower().rstrip(".")
    return h == "localhost" or h.endswith(".localhost")


def is_loopback_host(host: str) -> bool:
    """A loopback IP literal, ``localhost`` or ``*.localhost``: where plain http may go (opt-in)."""
    return is_loopback_ip_literal(host) or is_loopback_name(host)


def normalize_server_url(url: str, *, allow_insecure_loopback: bool = False) -> str:
    """Validate an MCP server URL the user typed and return the form we store.

    The one rule for the CLI, the manager and the GUI's validation: https
    anywhere; plain http only to a loopback host (:func:`is_loopback_host`)
    and only when the server's options allow it. The URL is kept as the user
    gave it (``localhost`` is never rewritten to an address: the protected
    resource metadata's ``resource`` must match what the server advertises),
    except for case-insensitive parts and the default port, so that
    ``https://host:443/mcp`` and ``https://HOST/mcp`` are one server.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"{sanitize_server_text(text, 120)!r} is not a valid URL (check the port and brackets)."
        ) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise ConfigurationError(
            f"{sanitize_server_text(text, 120)!r} is not an http(s) URL of an MCP server."
        )
    if parts.username is not None or parts.password is not None:
        raise InsecureUrlError("A server URL must not contain a user name or password.")
    if scheme == "http" and not (allow_insecure_loopback and is_loopback_host(host)):
        raise InsecureUrlError(
            "Plain http is refused: use https, or for a development server on this computer "
            "(localhost, 127.0.0.1, [::1]) enable 'allow insecure loopback'."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = parts.path or "/"
    if path == "/":
        path = ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def same_server_url(a: str, b: str) -> bool:
    """Do two stored server URLs name one server? (A trailing slash makes no other server.)"""

    def key(url: str) -> str:
        try:
            return canonical_resource_uri(url)
        except InsecureUrlError:
            return url.rstrip("/")

    return key(a) == key(b)


def _is_ambiguous_numeric(host: str) -> bool:
    if _ip_literal(host) is not None or host.startswith("["):
        return False
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(_NUMERIC_LABEL.match(last))


def classify_host(host: str) -> AddressClass | None:
    """Class of an IP-literal host; None for a DNS name (which must be resolved)."""
    ip = _ip_literal(host)
    return None if ip is None else classify_address(ip)


def _split(url: str, what: str) -> SplitResult:
    if not isinstance(url, str) or not url:
        raise InsecureUrlError(f"The {what} URL is missing or not text.")
    if len(url) > _MAX_URL:
        raise InsecureUrlError(f"The {what} URL is too long.")
    if _SPACE_OR_CONTROL.search(url):
        raise InsecureUrlError(f"The {what} URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InsecureUrlError(f"The {what} URL is not a valid URL.") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise InsecureUrlError(f"The {what} URL must start with https:// (got {parts.scheme or 'no'} scheme).")
    if not parts.hostname:
        raise InsecureUrlError(f"The {what} URL has no host name.")
    if "@" in parts.netloc:
        raise InsecureUrlError(f"The {what} URL must not contain a user name or password.")
    del port
    return parts


def host_of(url: str) -> str:
    """Lower-case host of a URL (IPv6 without brackets); '' when there is none."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _netloc(parts: SplitResult) -> str:
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` in canonical (lower-case, default port dropped) form."""
    parts = _split(url, "server")
    return f"{parts.scheme.lower()}://{_netloc(parts)}"


def canonical_resource_uri(url: str) -> str:
    """The RFC 8707 / MCP canonical URI of an MCP server URL.

    Lower-case scheme and host, default port dropped, fragment dropped, no
    trailing slash (the spec's examples write the root as
    ``https://mcp.example.com``); path case and query are kept as given.
    """
    parts = _split(url, "server")
    path = parts.path
    if path.endswith("/"):
        path = path[:-1]
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{_netloc(parts)}{path}{query}"


def _segments_prefix(prefix: str, path: str) -> bool:
    if not prefix:
        return True
    return path == prefix or path.startswith(prefix + "/")


def resource_matches(prm_resource: str, server_url: str) -> bool:
    """Does a PRM ``resource`` cover the server the user configured?

    Same origin (after canonicalisation) and the resource path is a whole-
    segment prefix of the server path. RFC 9728 §3.3 asks for identity; the
    MCP SDKs accept a prefix, which is what servers mounted at ``/`` with
    the MCP endpoint at ``/mcp`` publish.
    """
    try:
        res = urlsplit(canonical_resource_uri(prm_resource))
        srv = urlsplit(canonical_resource_uri(server_url))
    except InsecureUrlError:
        return False
    if "#" in prm_resource:
        return False
    if (res.scheme, res.netloc) != (srv.scheme, srv.netloc):
        return False
    if res.query and res.query != srv.query:
        return False
    return _segments_prefix(res.path, srv.path)


def redact_url(url: str) -> str:
    """A URL fit for messages and logs: origin and path, no query, no fragment, no userinfo."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"[:300]
    except ValueError:
        return "<invalid URL>"


def _scheme_allowed(parts: SplitResult, allow_insecure_loopback: bool) -> bool:
    if parts.scheme.lower() == "https":
        return True
    return allow_insecure_loopback and is_loopback_host(parts.hostname or "")


def check_authorization_url(url: str, *, allow_insecure_loopback: bool = False) -> str:
    """Refuse anything we would not hand to a browser: only http(s), no shell-active characters.

    The URL is opened without a shell anyway; this is the second wall
    (CVE-2025-6514 came from a ``javascript:``/metacharacter URL).
    """
    if not isinstance(url, str) or not url:
        raise InsecureUrlError("The authorization URL is missing.")
    if len(url) > _MAX_AUTHORIZATION_URL:
        raise InsecureUrlError("The authorization URL is too long.")
    if not _AUTHZ_URL_CHARS.match(url) or _BAD_PERCENT.search(url):
        raise InsecureUrlError(
            "The authorization URL contains characters that are not allowed in a URL."
        )
    parts = _split(url, "authorization")
    if parts.fragment or "#" in url:
        raise InsecureUrlError("The authorization URL must not contain a fragment.")
    if _is_ambiguous_numeric(parts.hostname or ""):
        raise InsecureUrlError("The authorization URL uses an ambiguous numeric host.")
    if not _scheme_allowed(parts, allow_insecure_loopback):
        raise InsecureUrlError(
            "The authorization URL must use https:// (plain http is only allowed to "
            "a loopback address when enabled for this server)."
        )
    return url


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """All addresses the OS resolver gives for host (bounded by a timeout)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(10.0):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _proxied(scheme: str, host: str) -> bool:
    proxies = urllib.request.getproxies_environment()
    if scheme not in proxies and "all" not in proxies:
        return False
    bypass: Callable[[str], bool] = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009
    return not bypass(host)


@dataclass
class UrlGuard:
    """Checks every URL learned from servers for one configured MCP server."""

    server_url: str
    allow_insecure_loopback: bool = False
    allow_private_network: bool = False
    resolver: Resolver = system_resolver
    _server_classes: frozenset[str] | None = field(default=None, init=False, repr=False)
    #: (host, port) -> the addresses check_endpoint resolved and allowed; the
    #: request is then sent to one of them (core/transport_guard.PinnedTransport).
    _checked: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def for_server(
        cls, server_url: str, options: ServerOptions | None = None, *, resolver: Resolver | None = None
    ) -> UrlGuard:
        opts = options or ServerOptions()
        return cls(
            server_url=server_url,
            allow_insecure_loopback=opts.allow_insecure_loopback,
            allow_private_network=opts.allow_private_network,
            resolver=resolver or system_resolver,
        )

    @property
    def server_host(self) -> str:
        return host_of(self.server_url)

    def check_server_url(self) -> str:
        """The configured MCP server URL itself: https unless the loopback opt-in applies."""
        parts = _split(self.server_url, "MCP server")
        if parts.fragment:
            raise InsecureUrlError("The MCP server URL must not contain a fragment.")
        if not _scheme_allowed(parts, self.allow_insecure_loopback):
            raise InsecureUrlError(
                "The MCP server URL must use https:// (plain http is only allowed to a "
                "loopback host such as localhost or 127.0.0.1 when enabled for this server)."
            )
        return self.server_url

    def check_syntax(self, url: str, purpose: str) -> SplitResult:
        """Everything that can be decided without DNS; raises InsecureUrlError."""
        parts = _split(url, purpose)
        if parts.fragment or "#" in url:
            raise InsecureUrlError(f"The {purpose} URL must not contain a fragment.")
        host = parts.hostname or ""
        if _is_ambiguous_numeric(host):
            raise InsecureUrlError(
                f"The {purpose} URL uses an ambiguous numeric host ({host[:60]}); use a "
                "dotted IPv4 address or a host name."
            )
        if not _scheme_allowed(parts, self.allow_insecure_loopback):
            raise InsecureUrlError(
                f"The {purpose} URL {redact_url(url)} must use https:// (plain http is only "
                "allowed to a loopback address when enabled for this server)."
            )
        kind = classify_host(host)
        if kind is not None and host.lower() != self.server_host:
            self._require_allowed(kind, self._literal_server_classes(), host, purpose)
        return parts

    async def check_endpoint(self, url: str, purpose: str) -> str:
        """Full check of a URL learned from a server, resolving DNS names."""
        parts = self.check_syntax(url, purpose)
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS[parts.scheme.lower()]
        self._checked.pop((host, port), None)  # only this check's answer may be pinned
        if is_loopback_name(host):
            # RFC 6761 promises loopback, a hosts file or resolver may not keep it.
            self._checked[(host, port)] = await self._require_loopback_resolution(host, parts, purpose)
            if host != self.server_host:
                # Loopback is allowed only to a server that is itself on loopback.
                self._require_allowed("loopback", await self._resolved_server_classes(), host, purpose)
            return url
        if classify_host(host) is not None or host == self.server_host:
            # The user chose the server's host; IP literals were judged above.
            return url
        try:
            addresses = await self.resolver(host, port)
        except (OSError, TimeoutError):
            if _proxied(parts.scheme.lower(), host):
                # Behind a proxy the proxy resolves names; our resolver may not know them.
                return url
            raise HostNotFoundError(
                f"The host name {host[:100]} could not be resolved (DNS lookup failed; {purpose})."
            ) from None
        if not addresses:
            raise NetworkError(f"The host name {host[:100]} has no addresses ({purpose}).")
        server_classes = await self._resolved_server_classes()
        for addr in addresses:
            try:
                kind = classify_address(addr)
            except ValueError:
                raise InsecureUrlError(f"The {purpose} host resolved to an unusable address.") from None
            self._require_allowed(kind, server_classes, host, purpose)
        self._checked[(host, port)] = tuple(addresses)
        return url

    def checked_addresses(self, url: str) -> tuple[str, ...]:
        """The addresses :meth:`check_endpoint` resolved and allowed for url's host, or ()."""
        try:
            parts = urlsplit(url)
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 443)
        except ValueError:
            return ()
        return self._checked.get(((parts.hostname or "").lower(), port), ())

    async def _require_loopback_resolution(
        self, host: str, parts: SplitResult, purpose: str
    ) -> tuple[str, ...]:
        try:
            addresses = await self.resolver(host, parts.port or _DEFAULT_PORTS[parts.scheme.lower()])
        except (OSError, TimeoutError):
            raise NetworkError(f"Could not resolve the host name {host[:100]} ({purpose}).") from None
        for addr in addresses or ("",):
            try:
                kind = classify_address(addr)
            except ValueError:
                kind = "forbidden"
            if kind != "loopback":
                raise InsecureUrlError(
                    f"The {purpose} host {host[:100]} is a loopback name (RFC 6761) but resolves to "
                    "an address that is not loopback; it was not contacted."
                )
        return tuple(addresses)

    def check_authorization_url(self, url: str) -> str:
        return check_authorization_url(url, allow_insecure_loopback=self.allow_insecure_loopback)

    def _require_allowed(
        self, kind: AddressClass, server_classes: frozenset[str], host: str, purpose: str
    ) -> None:
        if kind == "public":
            return
        if kind != "forbidden" and (self.allow_private_network or kind in server_classes):
            return
        raise InsecureUrlError(
            f"The {purpose} URL points at a {kind} address ({host[:100]}), which is blocked "
            "because the MCP server is not on such a network. Enable private networks for "
            "this server if that is intended."
        )

    def _literal_server_classes(self) -> frozenset[str]:
        host = self.server_host
        if is_loopback_name(host):
            return frozenset({"loopback"})
        kind = classify_host(host)
        if kind is not None:
            return frozenset({kind})
        return self._server_classes or frozenset()

    async def _resolved_server_classes(self) -> frozenset[str]:
        if self._server_classes is not None:
            return self._server_classes
        classes = set(self._literal_server_classes())
        host = self.server_host
        if not classes and host:
            try:
                parts = urlsplit(self.server_url)
                port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 443)
                for addr in await self.resolver(host, port):
                    try:
                        classes.add(classify_address(addr))
                    except ValueError:
                        continue
            except (OSError, TimeoutError, ValueError):
                pass
        classes.discard("public")
        classes.discard("forbidden")
        self._server_classes = frozenset(classes)
        return self._server_classes
