#!/usr/bin/env bash
# wrk (a C load generator, Debian's package) for npm run bench, so the load generator is
# never the bottleneck. Waits for a busy dpkg lock instead of failing.
set -euo pipefail
command -v wrk >/dev/null && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_get() { $SUDO apt-get -o DPkg::Lock::Timeout=600 "$@"; }
apt_get install -y --no-install-recommends wrk || { apt_get update && apt_get install -y --no-install-recommends wrk; }
command -v wrk >/dev/null
