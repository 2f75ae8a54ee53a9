"""The shared address policy (issue 15 #13): one decision per address in every IPv6 wrapping.

``netpolicy.classify_address`` is what the app's URL guard and the mock server's
Client ID Metadata Document fetcher both use; these properties pin that an IPv4
address hidden in an IPv6 form (IPv4-mapped, IPv4-compatible, 6to4, NAT64,
Teredo) gets the IPv4 address's class, and that the mock's fetcher refuses the
private ones before any connection.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_auth_desktop.core.errors import InsecureUrlError
from mcp_auth_desktop.core.urls import UrlGuard
from mock_server.clients import RegistrationError, _address_allowed, fetch_cimd
from netpolicy import classify_address

V4 = st.integers(min_value=0, max_value=2**32 - 1).map(ipaddress.IPv4Address)
PRIVATE_V4 = st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                              "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8"]).flatmap(
    lambda net: st.integers(0, ipaddress.IPv4Network(net).num_addresses - 1).map(
        lambda i, net=net: ipaddress.IPv4Network(net)[i]))
LOW = st.integers(min_value=0, max_value=2**64 - 1)


def mapped(v: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0xFFFF << 32) | int(v))


def sixtofour(v: ipaddress.IPv4Address, low: int) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0x2002 << 112) | (int(v) << 80) | (low & (2**80 - 1)))


def nat64(v: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(v))


def teredo(server: ipaddress.IPv4Address, client: ipaddress.IPv4Address, flags_port: int) -> ipaddress.IPv6Address:
    # 2001:0000:<server>:<flags><port>:<client XOR ffffffff>
    return ipaddress.IPv6Address((0x20010000 << 96) | (int(server) << 64)
                                 | ((flags_port & 0xFFFFFFFF) << 32) | (int(client) ^ 0xFFFFFFFF))


@given(V4, LOW)
def test_every_wrapping_gets_the_embedded_ipv4_class(v: ipaddress.IPv4Address, low: int) -> None:
    expected = classify_address(v)
    assert classify_address(mapped(v)) == expected
    assert classify_address(sixtofour(v, low)) == expected
    assert classify_address(nat64(v)) == expected
    assert classify_address(teredo(ipaddress.IPv4Address("65.54.227.120"), v, low)) == expected


@given(PRIVATE_V4, LOW, V4)
def test_no_wrapping_makes_a_private_address_public(v: ipaddress.IPv4Address, low: int, relay: ipaddress.IPv4Address) -> None:
    for wrapped in (mapped(v), sixtofour(v, low), nat64(v), teredo(relay, v, low)):
        assert classify_address(wrapped) != "public", wrapped
        # The mock's fetcher and the app's guard apply the same decision.
        assert not _address_allowed(str(wrapped), allow_loopback=False)
        with pytest.raises(InsecureUrlError):
            UrlGuard(server_url="https://mcp.example.com/mcp").check_syntax(f"https://[{wrapped}]/token", "token endpoint")


@given(st.one_of(V4, st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)))
def test_mock_and_app_agree_on_every_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    assert _address_allowed(str(ip), allow_loopback=False) == (classify_address(ip) == "public")


@pytest.mark.parametrize("host", [
    "[2002:a00:1::1]",             # 6to4 around 10.0.0.1
    "[2002:7f00:1::]",             # 6to4 around 127.0.0.1
    "[2002:a9fe:a9fe::]",          # 6to4 around 169.254.169.254 (cloud metadata)
    "[64:ff9b::c0a8:101]",         # NAT64 around 192.168.1.1
    "[::a00:1]",                   # IPv4-compatible 10.0.0.1
    f"[{teredo(ipaddress.IPv4Address('65.54.227.120'), ipaddress.IPv4Address('192.168.1.1'), 0)}]",
])
async def test_mock_cimd_fetcher_refuses_private_ipv4_hidden_in_ipv6(host: str) -> None:
    # Before the shared policy the mock asked Python's is_global, which calls
    # these global, and went on to connect to them.
    with pytest.raises(RegistrationError, match="host is not allowed"):
        await fetch_cimd(f"https://{host}/client.json", allow_http=False,
                         strict_application_type=False, allowed_scopes=("mcp:read",))
