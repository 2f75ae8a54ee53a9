#!/usr/bin/env bash
# Installs everything `make run` / `make test` need, idempotently.
#   scripts/bootstrap.sh [run|test]
# Debian packages (when root; otherwise prints the exact sudo line and stops),
# a .venv with the project, the mock server's extra (`--demo`) and the dev extras, and for `test` Node 22 plus the
# MCP conformance suite in .cache/conformance.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-test}"

RUN_PKGS=(libegl1 libgl1 libfontconfig1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
  libxcb-xinerama0 libxcb-xkb1 libdbus-1-3 libglib2.0-0 python3-venv)
TEST_PKGS=(xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools chromium trayer x11-utils xdotool
  desktop-file-utils appstream)
PKGS=("${RUN_PKGS[@]}")
[ "$MODE" = test ] && PKGS+=("${TEST_PKGS[@]}")

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: these Debian packages are missing. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

PY="${PYTHON:-python3}"
STAMP=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ]; then
  echo "bootstrap: creating .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[mock,dev]"
  rm -f .venv/.installed-*
  touch "$STAMP"
fi

# Test-only tools (Node, the conformance suite, third-party interop servers and clients) are
# installed by one script each under scripts/bootstrap.d/, in name order, so that adding a
# pinned component never edits this file. Each script is idempotent (stamp files in .cache/).
if [ "$MODE" = test ]; then
  for step in scripts/bootstrap.d/*.sh; do
    [ -e "$step" ] || continue
    bash "$step"
  done
fi
