"""An MCP server on the official Python SDK (PyPI ``mcp``, ``MCPServer``), started as its
documentation starts one: ``python era_python_server.py PORT`` runs Streamable HTTP on
127.0.0.1:PORT/mcp. It runs in its own virtual environment (``.cache/protocol-interop/venv``,
``scripts/bootstrap.d/30-protocol-interop.sh``) and never imports the app under test.
The SDK serves MCP 2026-07-28 to clients that speak it and the legacy revisions through
``initialize``.
"""

import sys

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("era-interop-python", version="2.3.0-test", instructions="Adds and echoes.")


@mcp.tool()
def add(a: int, b: int) -> str:
    """Add two numbers."""
    return str(a + b)


@mcp.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


if __name__ == "__main__":
    mcp.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
