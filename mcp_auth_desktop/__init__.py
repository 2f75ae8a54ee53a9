"""MCP Auth Desktop: an OAuth token manager for Model Context Protocol servers."""

__version__ = "0.1.0"
APP_NAME = "MCP Auth Desktop"
APP_ID = "mcp-auth-desktop"
