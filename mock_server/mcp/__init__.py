"""The MCP endpoint of the mock server: MCP 2026-07-28 (stateless) and the handshake-era
revisions 2025-11-25, 2025-06-18 and 2025-03-26 on one URL."""

from mock_server.mcp.endpoint import mcp_endpoint
from mock_server.mcp.runtime import McpRuntime

__all__ = ["McpRuntime", "mcp_endpoint"]
