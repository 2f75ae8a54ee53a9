#!/usr/bin/env bash
# Third-party MCP servers for tests/interop/test_protocol_eras.py (both protocol eras), pinned,
# into .cache/protocol-interop: the reference server @modelcontextprotocol/server-everything
# (2025-11-25 only, sessions) and a server on the official Python SDK `mcp` (MCPServer, speaks
# 2026-07-28 and the legacy revisions) in a venv of its own, so the app's venv does not pin it;
# and the official TypeScript SDK v2 (@modelcontextprotocol/server + @modelcontextprotocol/node:
# 2026-07-28, legacy traffic served statelessly) for tests/interop/era_ts_server.cjs.
set -euo pipefail
EVERYTHING_VERSION=2026.8.31
MCP_PY_VERSION=2.3.0
TS_SERVER_VERSION=2.4.0
TS_NODE_VERSION=2.1.2
DIR=.cache/protocol-interop
STAMP=$DIR/.installed-$EVERYTHING_VERSION-$MCP_PY_VERSION-$TS_SERVER_VERSION-$TS_NODE_VERSION
NODE_BIN=.cache/conformance/node_modules/node/bin
PY="${PYTHON:-python3}"
if [ ! -f "$STAMP" ]; then
  echo "bootstrap: installing server-everything@$EVERYTHING_VERSION mcp==$MCP_PY_VERSION and @modelcontextprotocol/server@$TS_SERVER_VERSION into $DIR"
  mkdir -p "$DIR"
  PATH="$PWD/$NODE_BIN:$PATH" npm install --prefix "$DIR/npm" --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
    "@modelcontextprotocol/server@$TS_SERVER_VERSION" "@modelcontextprotocol/node@$TS_NODE_VERSION" >/dev/null
  [ -x "$DIR/venv/bin/python" ] || "$PY" -m venv "$DIR/venv"
  "$DIR/venv/bin/python" -m pip install -q "mcp==$MCP_PY_VERSION" >"$DIR/pip.log" 2>&1 \
    || { cat "$DIR/pip.log" >&2; exit 1; }
  rm -f "$DIR"/.installed-*
  touch "$STAMP"
fi
