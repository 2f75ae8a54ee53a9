"""Where the loopback listener may listen, and the socket it listens on (RFC 8252 §7.3, §8.3).

A loopback IP literal only, on an ephemeral port unless the user fixed one;
the port is claimed so no other process can listen on it beside us.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

from mcp_auth_desktop.core.errors import ConfigurationError

__all__ = ["bind_socket", "check_address"]


def check_address(host: str, port: int, path: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The loopback IP to bind; ConfigurationError for anything else, a bad port or path."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigurationError(
            f"The callback listener must bind a loopback IP address such as 127.0.0.1, not {host!r}."
        ) from None
    if not ip.is_loopback:
        raise ConfigurationError(
            f"The callback listener must bind a loopback IP address such as 127.0.0.1, not {host!r}."
        )
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"The callback port must be between 1 and 65535, not {port}.")
    if not path.startswith("/") or "?" in path or "#" in path:
        raise ConfigurationError(f"The callback path must start with '/', got {path!r}.")
    return ip


def bind_socket(host: str, port: int, *, ipv6: bool) -> socket.socket:
    """A listening, non-blocking socket on ``host``:``port`` (0: a free port)."""
    sock = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_STREAM)
    try:
        if sys.platform == "win32":
            # Windows lets another process bind the same port with SO_REUSEADDR
            # unless we claim it exclusively (RFC 8252 §8.3 port hijack).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined,unused-ignore]
        else:
            # POSIX SO_REUSEADDR only skips the TIME_WAIT leftovers of an earlier
            # sign-in (Linux needs it on both sockets, so on ephemeral ones too);
            # it never lets a second socket bind a port that is listening.
            # SO_REUSEPORT, which would, is never set.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # A deep backlog: a flood of connections must not push the browser's
        # SYN into retransmission (seconds) before we can accept and evict.
        sock.listen(512)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if port:
            raise ConfigurationError(
                f"The callback port {port} is in use by another program "
                f"(or cannot be used: {exc.strerror}). Close that program, choose another "
                "callback port in the server's settings, or leave the port empty to use "
                "a free one."
            ) from None
        raise ConfigurationError(
            f"Could not open a callback listener on {host}: {exc.strerror}."
        ) from None
    return sock
