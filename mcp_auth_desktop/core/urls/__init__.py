"""The one URL module: canonical resource URIs, the https rule, the SSRF guard, authorization URLs.

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

Every URL rule of the app lives in this package (the client, the CLI, the
GUI's validation and the manager import it from here, ``core.urls``), one
module per responsibility:

    hosts.py          loopback hosts, IP literals and their class, ambiguous numeric hosts
    forms.py          the stored server URL, the canonical resource URI, origins,
                      comparison (one server, one URL) and redaction for messages
    authorization.py  the URL handed to a browser; the https / opted-in loopback rule
    guard.py          UrlGuard (the checks above with DNS) and the system resolver
"""

from __future__ import annotations

from mcp_auth_desktop.core.urls.authorization import check_authorization_url
from mcp_auth_desktop.core.urls.forms import (
    canonical_resource_uri,
    host_of,
    normalize_server_url,
    origin_of,
    redact_url,
    resource_matches,
    same_server_url,
)
from mcp_auth_desktop.core.urls.guard import Resolver, UrlGuard, system_resolver
from mcp_auth_desktop.core.urls.hosts import (
    DEFAULT_PORTS,
    classify_host,
    is_loopback_host,
    is_loopback_ip_literal,
    is_loopback_name,
)
from netpolicy import AddressClass, classify_address

__all__ = [
    "AddressClass",
    "DEFAULT_PORTS",
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
