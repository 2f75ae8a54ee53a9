"""Host rules: loopback hosts, IP literals and their address class, ambiguous numeric hosts.

Decided on the host text alone, without DNS. The address classes come from
``netpolicy`` (the policy the mock server shares); a DNS name has no class
until it is resolved (:class:`.guard.UrlGuard` does that).
"""

from __future__ import annotations

import ipaddress
import re

from netpolicy import AddressClass, IPAddress, classify_address

__all__ = [
    "DEFAULT_PORTS",
    "classify_host",
    "is_ambiguous_numeric",
    "is_loopback_host",
    "is_loopback_ip_literal",
    "is_loopback_name",
]

#: The ports a URL without one means; dropped from every stored or compared form.
DEFAULT_PORTS = {"http": 80, "https": 443}
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


def is_ambiguous_numeric(host: str) -> bool:
    """A host browsers and resolvers read as an IPv4 number (``2130706433``, ``0x7f.1``)."""
    if _ip_literal(host) is not None or host.startswith("["):
        return False
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(_NUMERIC_LABEL.match(last))


def classify_host(host: str) -> AddressClass | None:
    """Class of an IP-literal host; None for a DNS name (which must be resolved)."""
    ip = _ip_literal(host)
    return None if ip is None else classify_address(ip)
