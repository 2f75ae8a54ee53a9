"""Classify IP addresses: public, loopback, private, link-local or forbidden."""

from __future__ import annotations

import ipaddress
from typing import Literal

__all__ = ["AddressClass", "IPAddress", "classify_address", "embedded_ipv4"]

AddressClass = Literal["public", "loopback", "private", "link-local", "forbidden"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _v4(net: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(net)


def _v6(net: str) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network(net)


_V4_RULES: tuple[tuple[ipaddress.IPv4Network, AddressClass], ...] = (
    (_v4("0.0.0.0/8"), "forbidden"),  # "this network"; 0.0.0.0 reaches localhost on Linux
    (_v4("127.0.0.0/8"), "loopback"),
    (_v4("169.254.0.0/16"), "link-local"),  # cloud metadata lives here
    (_v4("10.0.0.0/8"), "private"),
    (_v4("172.16.0.0/12"), "private"),
    (_v4("192.168.0.0/16"), "private"),
    (_v4("100.64.0.0/10"), "private"),  # carrier-grade NAT
    (_v4("224.0.0.0/4"), "forbidden"),
    (_v4("240.0.0.0/4"), "forbidden"),
)
_V6_RULES: tuple[tuple[ipaddress.IPv6Network, AddressClass], ...] = (
    (_v6("::/128"), "forbidden"),
    (_v6("::1/128"), "loopback"),
    (_v6("fe80::/10"), "link-local"),
    (_v6("fc00::/7"), "private"),  # unique local
    (_v6("fec0::/10"), "private"),  # deprecated site-local
    (_v6("64:ff9b:1::/48"), "private"),  # local-use NAT64 (RFC 8215)
    (_v6("ff00::/8"), "forbidden"),
)
_V4_COMPAT = _v6("::/96")
_V4_TRANSLATED = _v6("::ffff:0:0:0/96")
_NAT64 = _v6("64:ff9b::/96")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compat, 6to4, NAT64, Teredo), else None.

    A 6to4 or NAT64 gateway forwards to that IPv4 address, so it is what a
    request would reach; Python's ``is_global`` calls ``2002:a00:1::`` global
    although it wraps 10.0.0.1.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address; the server half is a public relay
    packed = int(ip)
    if ip in _NAT64 or ip in _V4_TRANSLATED:
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    if ip in _V4_COMPAT and packed > 1:  # ::/96 minus :: and ::1
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def classify_address(ip: IPAddress | str) -> AddressClass:
    """Which kind of network an address belongs to, decided on any embedded IPv4.

    Raises ValueError for text that is not an IP address.
    """
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(ip.compressed.split("%", 1)[0])
    ip = embedded_ipv4(ip) or ip
    if isinstance(ip, ipaddress.IPv4Address):
        for net4, kind in _V4_RULES:
            if ip in net4:
                return kind
    else:
        for net6, kind in _V6_RULES:
            if ip in net6:
                return kind
    # Documentation, benchmarking, protocol-assignment and other special
    # ranges: nothing legitimate lives there for us.
    return "public" if ip.is_global else "forbidden"
