#!/usr/bin/env bash
# Install the system packages tripwire needs: bubblewrap for the sandbox.
# Idempotent: does nothing when they are present.
set -euo pipefail
if command -v bwrap >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq bubblewrap
elif command -v dnf >/dev/null 2>&1; then
  $SUDO dnf install -y bubblewrap
else
  echo "tripwire: install bubblewrap (the 'bwrap' command) with your package manager" >&2
  exit 1
fi
