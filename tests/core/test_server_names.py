"""Default server names carry the port when the host alone would not say which server (issue 16)."""

from __future__ import annotations

import pytest

from mcp_auth_desktop.core.server_names import default_name


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://mcp.example.com/mcp", "mcp.example.com"),
        ("https://mcp.example.com:443/mcp", "mcp.example.com"),
        ("https://mcp.example.com:8443/mcp", "mcp.example.com:8443"),
        ("http://127.0.0.1:8001/mcp", "127.0.0.1:8001"),
        ("http://127.0.0.1:80/sse", "127.0.0.1"),
        ("http://[::1]:9000/mcp", "[::1]:9000"),
        ("https://api.example.com/v1/mcp", "api.example.com/v1/mcp"),
        ("https://api.example.com:9443/team/x", "api.example.com:9443/team/x"),
    ],
)
def test_default_name(url: str, name: str) -> None:
    assert default_name(url) == name
