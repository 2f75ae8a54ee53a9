#!/usr/bin/env bash
# Real MCP clients that drive `mcp-auth bridge` in tests/bridge: the MCP Inspector CLI, pinned,
# into .cache/bridge-clients (Node 22 comes from 10-conformance.sh). The Python SDK client
# (`mcp`) is a test dependency in pyproject.toml.
set -euo pipefail
INSPECTOR_CLI_VERSION=1.0.3
INSPECTOR_VERSION=2.12.0
DIR=.cache/bridge-clients
STAMP=$DIR/.installed-$INSPECTOR_CLI_VERSION-$INSPECTOR_VERSION
NODE_BIN=.cache/conformance/node_modules/node/bin
if [ ! -f "$STAMP" ]; then
  echo "bootstrap: installing @modelcontextprotocol/inspector-cli@$INSPECTOR_CLI_VERSION and @modelcontextprotocol/inspector@$INSPECTOR_VERSION into $DIR"
  mkdir -p "$DIR"
  PATH="$PWD/$NODE_BIN:$PATH" npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error \
    --ignore-scripts \
    "@modelcontextprotocol/inspector-cli@$INSPECTOR_CLI_VERSION" \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >/dev/null
  rm -f "$DIR"/.installed-*
  touch "$STAMP"
fi
