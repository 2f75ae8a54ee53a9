"""An ordinary FastMCP app with FastMCP's built-in in-memory OAuth provider (interop fixture).

Started the way FastMCP's documentation starts a server: ``python fastmcp_server.py PORT``
runs ``mcp.run(transport="http", ...)``. It runs in its own virtual environment
(``.cache/interop/fastmcp-venv``), never imports the app under test, and is not changed
to suit the client: registration validates scopes (``valid_scopes``), every request
needs ``mcp:read`` and revocation is on, as a FastMCP user would configure them.
"""

from __future__ import annotations

import sys

from fastmcp import FastMCP
from fastmcp.server.auth.providers.in_memory import InMemoryOAuthProvider
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8000

auth = InMemoryOAuthProvider(
    base_url=f"http://localhost:{PORT}",
    client_registration_options=ClientRegistrationOptions(
        enabled=True, valid_scopes=["mcp:read", "mcp:write"]
    ),
    revocation_options=RevocationOptions(enabled=True),
    required_scopes=["mcp:read"],
)

mcp = FastMCP("Interop demo", auth=auth)


@mcp.tool
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@mcp.tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


if __name__ == "__main__":
    mcp.run(transport="http", host="127.0.0.1", port=PORT)
