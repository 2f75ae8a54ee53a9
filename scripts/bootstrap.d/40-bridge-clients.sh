#!/usr/bin/env bash
# Real MCP clients that drive `mcp-auth bridge` in tests/bridge: the MCP Inspector (its --cli
# mode), pinned, into .cache/bridge-clients (Node 22 comes from 10-conformance.sh). The Python
# SDK client (`mcp`) is a test dependency in pyproject.toml. (@modelcontextprotocol/inspector-cli
# 1.0.3 does not start when installed on its own: it imports ../package.json of the v1 monorepo.)
set -euo pipefail
INSPECTOR_VERSION=2.12.0
DIR=.cache/bridge-clients
STAMP=$DIR/.installed-$INSPECTOR_VERSION
NODE_BIN=.cache/conformance/node_modules/node/bin
if [ ! -f "$STAMP" ]; then
  echo "bootstrap: installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION into $DIR"
  mkdir -p "$DIR"
  PATH="$PWD/$NODE_BIN:$PATH" npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error \
    --ignore-scripts \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >/dev/null
  rm -f "$DIR"/.installed-*
  touch "$STAMP"
fi
