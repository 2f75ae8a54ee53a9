#!/usr/bin/env bash
# Node 22 and the official MCP conformance suite, pinned, into .cache/conformance.
set -euo pipefail
CONF_VERSION=0.2.0-alpha.12
CONF_DIR=.cache/conformance
CONF_STAMP=$CONF_DIR/.installed-$CONF_VERSION
if [ ! -f "$CONF_STAMP" ]; then
  echo "bootstrap: installing Node 22 and @modelcontextprotocol/conformance@$CONF_VERSION into $CONF_DIR"
  mkdir -p "$CONF_DIR"
  npm install --prefix "$CONF_DIR" --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/conformance@$CONF_VERSION" node@22 >/dev/null
  rm -f "$CONF_DIR"/.installed-*
  touch "$CONF_STAMP"
fi
