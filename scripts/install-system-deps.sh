#!/usr/bin/env bash
# Install the system packages tripwire needs: bubblewrap for the sandbox (required).
# With --browser (`make test`), also Chromium for the HTML report's browser tests
# (optional: if it cannot be installed this says so and carries on; those tests then
# skip, saying why).
# Idempotent and fast: does nothing (no package manager call) when all are present.
set -euo pipefail

want_chromium=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_chromium=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

have_chromium() {
  if [ -n "${TRIPWIRE_CHROMIUM:-}" ]; then
    command -v "$TRIPWIRE_CHROMIUM" >/dev/null 2>&1
    return
  fi
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then return 0; fi
  done
  return 1
}

need_bwrap=1
need_chromium=$want_chromium
if command -v bwrap >/dev/null 2>&1; then need_bwrap=0; fi
if [ "$need_chromium" -eq 1 ] && have_chromium; then need_chromium=0; fi
if [ "$need_bwrap" -eq 0 ] && [ "$need_chromium" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
chromium_skipped() {
  echo "tripwire: could not install chromium ($1); the HTML report's browser tests will" \
    "be skipped. Install Chromium, or set TRIPWIRE_CHROMIUM to a Chromium or Chrome" \
    "executable, to run them." >&2
}

if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get update -qq && [ "$need_bwrap" -eq 0 ]; then
    chromium_skipped "apt-get update failed"
    exit 0
  fi
  if [ "$need_bwrap" -eq 1 ]; then
    $SUDO apt-get install -y -qq bubblewrap
  fi
  if [ "$need_chromium" -eq 1 ]; then
    $SUDO apt-get install -y -qq chromium || chromium_skipped "apt-get install chromium failed"
  fi
elif command -v dnf >/dev/null 2>&1; then
  if [ "$need_bwrap" -eq 1 ]; then
    $SUDO dnf install -y bubblewrap
  fi
  if [ "$need_chromium" -eq 1 ]; then
    $SUDO dnf install -y chromium || chromium_skipped "dnf install chromium failed"
  fi
else
  if [ "$need_chromium" -eq 1 ]; then
    chromium_skipped "no apt-get or dnf"
  fi
  if [ "$need_bwrap" -eq 1 ]; then
    echo "tripwire: install bubblewrap (the 'bwrap' command) with your package manager" >&2
    exit 1
  fi
fi
