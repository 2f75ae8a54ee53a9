#!/usr/bin/env bash
# Runs a command in a private headless desktop session:
#   Xvfb on a free display, a D-Bus session bus, an unlocked gnome-keyring
#   (Secret Service) in a throw-away data folder, and a system-tray host (trayer).
# Everything is torn down when the command ends; its exit code is returned.
set -euo pipefail
if [ -z "${_MCP_HEADLESS_INNER:-}" ]; then
  export _MCP_HEADLESS_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi

SESSION_DIR="$(mktemp -d /tmp/mcp-auth-headless.XXXXXX)"
export XDG_DATA_HOME="$SESSION_DIR/data" XDG_RUNTIME_DIR="$SESSION_DIR/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${GNOME_KEYRING_PID:-}" ] && kill "$GNOME_KEYRING_PID" 2>/dev/null || true
  rm -rf "$SESSION_DIR"
}
trap cleanup EXIT

if [ -z "${DISPLAY:-}" ] || [ "${MCP_HEADLESS_FORCE_XVFB:-1}" = 1 ]; then
  Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$SESSION_DIR/display" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$SESSION_DIR/display" ] && break; sleep 0.05; done
  export DISPLAY=":$(cat "$SESSION_DIR/display")"
fi

# gnome-keyring: --unlock creates and unlocks a 'login' collection with this password.
eval "$(printf 'mcp-auth-test' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL GNOME_KEYRING_PID 2>/dev/null || true

if command -v trayer >/dev/null; then
  trayer --edge top --align right --width 10 --height 24 --transparent false >/dev/null 2>&1 &
  pids+=($!)
fi

export QT_QPA_PLATFORM=xcb MCP_AUTH_HEADLESS_SESSION=1
set +e
"$@"
rc=$?
exit $rc
