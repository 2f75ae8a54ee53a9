#!/usr/bin/env bash
# Third-party MCP servers of the interop suite (tests/interop), pinned, into .cache/interop:
#  - the official TypeScript SDK (its example server with --oauth and demo authorization server),
#    run with the Node 22 that 10-conformance.sh installs;
#  - FastMCP in its own virtual environment (never the app's), for tests/interop/fastmcp_server.py.
set -euo pipefail
TS_SDK_VERSION=1.32.2
FASTMCP_VERSION=4.2.3
DIR=.cache/interop
NODE_BIN=.cache/conformance/node_modules/node/bin

TS_STAMP=$DIR/.installed-ts-sdk-$TS_SDK_VERSION
if [ ! -f "$TS_STAMP" ]; then
  echo "bootstrap: installing @modelcontextprotocol/sdk@$TS_SDK_VERSION into $DIR/ts"
  mkdir -p "$DIR/ts"
  PATH="$PWD/$NODE_BIN:$PATH" npm install --prefix "$DIR/ts" --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/sdk@$TS_SDK_VERSION" >/dev/null
  rm -f "$DIR"/.installed-ts-sdk-*
  touch "$TS_STAMP"
fi

FM_STAMP=$DIR/.installed-fastmcp-$FASTMCP_VERSION
if [ ! -f "$FM_STAMP" ]; then
  echo "bootstrap: installing fastmcp==$FASTMCP_VERSION into $DIR/fastmcp-venv"
  mkdir -p "$DIR"
  rm -rf "$DIR/fastmcp-venv"
  "${PYTHON:-python3}" -m venv "$DIR/fastmcp-venv"
  "$DIR/fastmcp-venv/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$DIR/fastmcp-venv/bin/python" -m pip install -q "fastmcp==$FASTMCP_VERSION" >/dev/null
  rm -f "$DIR"/.installed-fastmcp-*
  touch "$FM_STAMP"
fi
