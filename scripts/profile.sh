#!/usr/bin/env bash
# Profile a running api or worker without restarting it, through Node's inspector bound to
# 127.0.0.1 only:
#   scripts/profile.sh cpu  <pid> [seconds=10] [port]   -> artifacts/profiles/<pid>-<time>.cpuprofile
#   scripts/profile.sh heap <pid> [port]                -> artifacts/profiles/<pid>-<time>.heapsnapshot
# SIGUSR1 makes Node open its inspector on the port it was started with (npm start passes
# --inspect-port=127.0.0.1:9229 to the api and :9230 to the worker; Node's default is 9229).
# Open the files in Chrome DevTools (Performance / Memory tabs) or speedscope.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:?usage: scripts/profile.sh cpu|heap <pid> [seconds] [port]}"
pid="${2:?pid required}"
if [ "$kind" = cpu ]; then secs="${3:-10}"; port="${4:-}"; else secs=0; port="${3:-}"; fi
if [ -z "$port" ]; then
  port=$(tr '\0' '\n' < "/proc/$pid/cmdline" | sed -n 's/^--inspect-port=\(.*:\)\{0,1\}\([0-9]*\)$/\2/p' | head -1)
  port="${port:-9229}"
fi
kill -USR1 "$pid"
mkdir -p artifacts/profiles
out="artifacts/profiles/${pid}-$(date +%Y%m%dT%H%M%S).$([ "$kind" = cpu ] && echo cpuprofile || echo heapsnapshot)"
exec node --experimental-websocket --no-warnings --import tsx scripts/profile-client.ts "$kind" "$port" "$secs" "$out"
