#!/usr/bin/env bash
# npm start: install what is missing, make sure PostgreSQL, Redis and Kafka run, migrate,
# then run the API (API_PROCESSES processes behind one port, src/cluster.ts) and the worker
# in the foreground (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[start] installing npm dependencies" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/services.sh up
npx --no-install tsx src/migrate.ts
# Development only: a demo event so the page has something to book.
if [ "${NODE_ENV:-development}" != production ]; then npx --no-install tsx scripts/seed-demo.ts; fi

pids=()
stop() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait || true; }
trap stop INT TERM
node --inspect-port=127.0.0.1:9230 --import tsx --import ./src/telemetry/register.ts src/worker.ts & pids+=($!)
node --import tsx src/cluster.ts & pids+=($!)
# Either process exiting ends the session (and stops the other).
set +e
wait -n
code=$?
stop
exit "$code"
