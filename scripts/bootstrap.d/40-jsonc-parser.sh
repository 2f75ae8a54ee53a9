#!/usr/bin/env bash
# Microsoft's jsonc-parser, the parser VS Code reads mcp.json with, pinned, into .cache/jsonc-parser:
# the setup-client tests check that what we write into a VS Code config parses as VS Code parses it.
# Runs on the Node 22 that 10-conformance.sh installs.
set -euo pipefail
JSONC_VERSION=3.3.1
JSONC_DIR=.cache/jsonc-parser
JSONC_STAMP=$JSONC_DIR/.installed-$JSONC_VERSION
if [ ! -f "$JSONC_STAMP" ]; then
  echo "bootstrap: installing jsonc-parser@$JSONC_VERSION into $JSONC_DIR"
  mkdir -p "$JSONC_DIR"
  PATH="$PWD/.cache/conformance/node_modules/node/bin:$PATH" npm install --prefix "$JSONC_DIR" \
    --no-audit --no-fund --loglevel=error "jsonc-parser@$JSONC_VERSION" >/dev/null
  rm -f "$JSONC_DIR"/.installed-*
  touch "$JSONC_STAMP"
fi
