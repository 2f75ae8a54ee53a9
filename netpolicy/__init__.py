"""One address policy for the app and the mock server (they may not import each other).

Which kind of network an IP address belongs to, decided on the IPv4 address
an IPv6 form embeds (IPv4-mapped, IPv4-compatible, 6to4, NAT64, Teredo), so
one address gets one decision in every encoding. Standard library only; both
``mcp_auth_desktop`` and ``mock_server`` depend on it, it depends on neither
(import-linter checks that).
"""

from .address import AddressClass, IPAddress, classify_address, embedded_ipv4

__all__ = ["AddressClass", "IPAddress", "classify_address", "embedded_ipv4"]
