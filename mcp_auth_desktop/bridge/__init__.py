"""``mcp-auth bridge``: a stdio MCP server that forwards to a remote MCP server.

Local-only MCP clients (their config takes a command, not a URL) start
``mcp-auth bridge NAME``; it speaks newline-delimited JSON-RPC on stdin and
stdout and forwards every message over Streamable HTTP with the manager's
tokens (refreshed under the same cross-process lock as the app and the CLI).
Qt-free: the app only counts the bridges' registration files.

Modules: :mod:`.stdio` (the local side), :mod:`.upstream` (the HTTP side),
:mod:`.tokens` (tokens, refresh after a 401, why a sign-in is needed),
:mod:`.signin` (asking the app, or the browser, to sign in),
:mod:`.presence` (registration files the app counts), :mod:`.session` (the
message routing between them).
"""
