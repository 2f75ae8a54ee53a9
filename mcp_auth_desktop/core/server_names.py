"""The name a server gets when the user gives none (issue 16).

The host, plus the path when it is more than ``/mcp`` or ``/sse``. A port other
than the scheme's default is part of the name: several servers often share one
host on different ports (every local development server is ``127.0.0.1``), so
the host alone would not say which one is meant, and "127.0.0.1-2" says nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp_auth_desktop.core.urls import DEFAULT_PORTS

__all__ = ["default_name"]


def default_name(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "server"
    if ":" in host:  # an IPv6 literal keeps its brackets beside a port
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = parts.path.strip("/")
    return host if not path or path in ("mcp", "sse") else f"{host}/{path}"
