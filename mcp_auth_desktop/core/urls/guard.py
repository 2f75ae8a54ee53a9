"""The SSRF guard: every URL learned from a server is checked before any request is made.

Every URL the client *learns from a server* (``resource_metadata``,
``authorization_servers``, endpoints, redirect hops) can be chosen by an
attacker, so it passes :class:`UrlGuard` (the rules are listed in the
``core.urls`` package docstring). DNS names are resolved and *every* address
is checked; the addresses allowed are remembered
(:meth:`UrlGuard.checked_addresses`) so the request goes to one of them
(``core/transport_guard.PinnedTransport``) and a second DNS answer is never used.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from mcp_auth_desktop.core.errors import HostNotFoundError, InsecureUrlError, NetworkError
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.urls.authorization import check_authorization_url, scheme_allowed
from mcp_auth_desktop.core.urls.forms import host_of, redact_url, split_url
from mcp_auth_desktop.core.urls.hosts import (
    DEFAULT_PORTS,
    classify_host,
    is_ambiguous_numeric,
    is_loopback_name,
)
from netpolicy import AddressClass, classify_address

__all__ = ["Resolver", "UrlGuard", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """All addresses the OS resolver gives for host (bounded by a timeout)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(10.0):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _proxied(scheme: str, host: str) -> bool:
    # urllib.request (with http.client and the email package) when a URL is checked, not
    # while the app starts (issue 17); httpx has loaded it by then anyway.
    import urllib.request

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
        parts = split_url(self.server_url, "MCP server")
        if parts.fragment:
            raise InsecureUrlError("The MCP server URL must not contain a fragment.")
        if not scheme_allowed(parts, self.allow_insecure_loopback):
            raise InsecureUrlError(
                "The MCP server URL must use https:// (plain http is only allowed to a "
                "loopback host such as localhost or 127.0.0.1 when enabled for this server)."
            )
        return self.server_url

    def check_syntax(self, url: str, purpose: str) -> SplitResult:
        """Everything that can be decided without DNS; raises InsecureUrlError."""
        parts = split_url(url, purpose)
        if parts.fragment or "#" in url:
            raise InsecureUrlError(f"The {purpose} URL must not contain a fragment.")
        host = parts.hostname or ""
        if is_ambiguous_numeric(host):
            raise InsecureUrlError(
                f"The {purpose} URL uses an ambiguous numeric host ({host[:60]}); use a "
                "dotted IPv4 address or a host name."
            )
        if not scheme_allowed(parts, self.allow_insecure_loopback):
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
        port = parts.port or DEFAULT_PORTS[parts.scheme.lower()]
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
            port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 443)
        except ValueError:
            return ()
        return self._checked.get(((parts.hostname or "").lower(), port), ())

    async def _require_loopback_resolution(
        self, host: str, parts: SplitResult, purpose: str
    ) -> tuple[str, ...]:
        try:
            addresses = await self.resolver(host, parts.port or DEFAULT_PORTS[parts.scheme.lower()])
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
                port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 443)
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
