#!/usr/bin/env bash
# Makes sure Debian's chromium is at /usr/bin/chromium for the browser tests (playwright-core
# drives it; nothing is ever downloaded by Playwright). A no-op when it is already there.
set -euo pipefail

BIN=/usr/bin/chromium
if [ -x "$BIN" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "[ensure-chromium] $BIN is missing and this user cannot install packages (not root, no sudo)" >&2
  exit 1
fi

echo "[ensure-chromium] installing Debian's chromium with apt" >&2
export DEBIAN_FRONTEND=noninteractive
# Try with the package lists the image has; refresh them only if that fails (unknown
# package on a fresh image, or stale lists whose versions the mirror no longer serves).
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if [ ! -x "$BIN" ]; then
  echo "[ensure-chromium] apt finished but $BIN is still missing" >&2
  exit 1
fi
echo "[ensure-chromium] $("$BIN" --version 2>/dev/null || echo chromium installed)" >&2
