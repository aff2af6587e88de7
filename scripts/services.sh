#!/usr/bin/env bash
# Native (no Docker) bootstrap of the services boxoffice needs for dev and tests:
#   PostgreSQL 127.0.0.1:5432 (trust auth, user postgres)
#   Redis      127.0.0.1:6379
#   Kafka      127.0.0.1:9092 (single node, KRaft, broker+controller; controller on port+1)
#
# Usage:
#   scripts/services.sh up                                   ensure all three are reachable (fast no-op if they are)
#   scripts/services.sh down                                 stop the default Kafka broker (PG/Redis untouched)
#   scripts/services.sh status                               print what is up
#   scripts/services.sh kafka-start --port P [--data-dir D]  start (or no-op) a private broker on P (controller P+1)
#   scripts/services.sh kafka-stop  --port P [--data-dir D]  stop it (SIGTERM, SIGKILL after 20 s), keep its data
#   scripts/services.sh redis-cluster-up   [--port B] [--data-dir D]  Redis Cluster, 3 masters + 3 replicas on B..B+5
#   scripts/services.sh redis-cluster-down [--port B] [--data-dir D]  stop it and forget it (next up creates a new one)
#   scripts/services.sh redis-cluster-nodes [--port B]                print its REDIS_CLUSTER_NODES value
#
# Kafka runs from the org.apache.kafka:kafka_2.13 jars fetched with Maven (scripts/kafka/pom.xml)
# into ${BOXOFFICE_CACHE:-<repo>/.cache}/kafka-<version>/libs, downloaded only once.
#
# Environment knobs (all optional):
#   BOXOFFICE_CACHE        cache root (default <repo>/.cache)
#   BOXOFFICE_KAFKA_VERSION  Kafka version (default 3.9.2)
#   BOXOFFICE_KAFKA_PORT   default broker port for up/down/status (default 9092)
#   BOXOFFICE_KAFKA_WAIT   seconds to wait for a broker to become ready (default 90)
#   KAFKA_HEAP_OPTS        JVM heap flags (default -Xms256m -Xmx512m)
#   BOXOFFICE_REDIS_CLUSTER_PORT          first port of the local Redis Cluster (default 7100)
#   BOXOFFICE_REDIS_CLUSTER_NODE_TIMEOUT  cluster-node-timeout in ms (default 2000: failover within seconds)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_DIR="$REPO/scripts/kafka"
CACHE="${BOXOFFICE_CACHE:-$REPO/.cache}"
KAFKA_VERSION="${BOXOFFICE_KAFKA_VERSION:-3.9.2}"
DEFAULT_KAFKA_PORT="${BOXOFFICE_KAFKA_PORT:-9092}"
KAFKA_WAIT="${BOXOFFICE_KAFKA_WAIT:-90}"
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
KAFKA_PORTS_DIR="$CACHE/kafka-ports" # <port> -> data dir of the broker started on it
PG_PORT=5432
REDIS_PORT=6379
DEFAULT_CLUSTER_PORT="${BOXOFFICE_REDIS_CLUSTER_PORT:-7100}"
CLUSTER_NODE_TIMEOUT="${BOXOFFICE_REDIS_CLUSTER_NODE_TIMEOUT:-2000}"
CLUSTER_SIZE=6 # 3 masters, 3 replicas

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- helpers

# TCP probe on 127.0.0.1:<port>; instant on loopback.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Serialise concurrent starts (e.g. parallel test workers). The lock fd (9) is closed for
# every long-lived child we start, so the lock is released when this script exits.
take_lock() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.services.lock"
  if command -v flock >/dev/null 2>&1; then flock -w 600 9 || die "timed out waiting for $CACHE/.services.lock"; fi
}

# ---------------------------------------------------------------- PostgreSQL

pg_trust_ok() {
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -w -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

pg_ensure_trust() {
  pg_trust_ok && return 0
  log "PostgreSQL: enabling trust auth for 127.0.0.1/::1 in pg_hba.conf"
  local hba
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [ -f "$hba" ] || continue
    as_root sed -i -E \
      -e 's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+)[a-z0-9-]+#\1trust#' \
      -e 's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+::1/128[[:space:]]+)[a-z0-9-]+#\1trust#' \
      "$hba"
    # make sure the first matching rule for 127.0.0.1 is trust, whatever the file had
    if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
  done
  local ver
  ver="$(ls /etc/postgresql | sort -V | tail -1)"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null 2>&1 || true
  sleep 0.5
  pg_trust_ok || log "WARNING: PostgreSQL is up but 'psql -h 127.0.0.1 -U postgres' still needs a password"
}

pg_up() {
  port_open "$PG_PORT" && return 0
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "PostgreSQL not installed; installing"
    apt_install postgresql
  fi
  local ver
  if [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"
    log "PostgreSQL: creating cluster $ver/main"
    as_root pg_createcluster "$ver" main >/dev/null
  fi
  ver="$(ls /etc/postgresql | sort -V | tail -1)"
  log "PostgreSQL: starting cluster $ver/main"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || log "pg_ctlcluster start returned $? (checking anyway)"
  local i
  for i in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
      pg_ensure_trust
      log "PostgreSQL ready on 127.0.0.1:$PG_PORT"
      return 0
    fi
    sleep 0.5
  done
  die "PostgreSQL did not become ready on 127.0.0.1:$PG_PORT"
}

# ---------------------------------------------------------------- Redis

redis_ping() {
  local reply=""
  exec 8<>"/dev/tcp/127.0.0.1/$REDIS_PORT" || return 1
  printf 'PING\r\n' >&8
  IFS= read -r -t 2 reply <&8 || true
  exec 8>&-
  [ "${reply%$'\r'}" = "+PONG" ]
}

redis_up() {
  port_open "$REDIS_PORT" && return 0
  if ! command -v redis-server >/dev/null 2>&1; then
    log "redis-server not installed; installing"
    apt_install redis-server
  fi
  log "Redis: starting on 127.0.0.1:$REDIS_PORT"
  (cd /tmp && redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no 9>&-) >/dev/null
  local i
  for i in $(seq 1 50); do
    if (redis_ping) 2>/dev/null; then log "Redis ready on 127.0.0.1:$REDIS_PORT"; return 0; fi
    sleep 0.2
  done
  die "Redis did not answer PING on 127.0.0.1:$REDIS_PORT"
}

# ---------------------------------------------------------------- Redis Cluster

redis_server_installed() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1
}

cluster_ports() { seq "$1" $(($1 + CLUSTER_SIZE - 1)); }

cluster_dir_for() { # base [explicit dir]
  if [ -n "${2:-}" ]; then mkdir -p "$2"; (cd "$2" && pwd); else echo "$CACHE/redis-cluster-$1"; fi
}

# cluster_state of one node ("ok", "fail", or "" if it does not answer).
cluster_state() { # port
  redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p'
}

cluster_known() { # port
  redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_known_nodes://p'
}

# Every node answers, knows all the others and says ok: clients see one consistent slot map.
cluster_healthy() { # base
  local p
  for p in $(cluster_ports "$1"); do
    port_open "$p" || return 1
    [ "$(cluster_state "$p")" = ok ] || return 1
    [ "$(cluster_known "$p")" = "$CLUSTER_SIZE" ] || return 1
  done
  # ... and every master has a replica, none is marked failing.
  local view
  view="$(redis-cli -h 127.0.0.1 -p "$1" cluster nodes 2>/dev/null | tr -d '\r')"
  [ "$(awk '$3 ~ /slave/' <<<"$view" | wc -l)" = $((CLUSTER_SIZE / 2)) ] || return 1
  [ -z "$(awk '$3 ~ /fail/' <<<"$view")" ]
}

# pid of the redis-server recorded for <dir>/<port>, if alive and serving that port.
cluster_node_pid() { # dir port
  local pidf="$1/$2/redis.pid" pid
  [ -f "$pidf" ] || return 1
  pid="$(cat "$pidf" 2>/dev/null || true)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server 127.0.0.1:$2" || return 1
  echo "$pid"
}

cluster_node_start() { # dir port
  local dir="$1" port="$2"
  mkdir -p "$dir/$port"
  # No persistence: like the standalone Redis, a restarted node comes back empty and the
  # application rebuilds from PostgreSQL. nodes.conf keeps the node's identity, so a
  # restarted node rejoins (as a replica if its slots failed over meanwhile).
  (cd "$dir/$port" && redis-server --daemonize yes --bind 127.0.0.1 --port "$port" \
    --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
    --cluster-node-timeout "$CLUSTER_NODE_TIMEOUT" \
    --cluster-require-full-coverage no --cluster-replica-validity-factor 0 \
    --dir "$dir/$port" --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" \
    --save "" --appendonly no 9>&-) >/dev/null
}

cluster_nodes_value() { # base
  cluster_ports "$1" | sed 's/^/127.0.0.1:/' | paste -sd, -
}

cluster_up() { # base [data dir]
  local base="$1" dir p i
  if cluster_healthy "$base"; then return 0; fi # fast path: reuse the one that runs
  dir="$(cluster_dir_for "$base" "${2:-}")"
  take_lock
  if cluster_healthy "$base"; then return 0; fi # started by a concurrent caller
  if ! redis_server_installed; then
    log "redis-server not installed; installing"
    apt_install redis-server
  fi
  mkdir -p "$dir"
  for p in $(cluster_ports "$base"); do
    if port_open "$p"; then
      cluster_node_pid "$dir" "$p" >/dev/null || [ -n "$(cluster_known "$p")" ] \
        || die "port 127.0.0.1:$p is taken by something that is not a cluster node"
      continue
    fi
    log "Redis Cluster: starting node 127.0.0.1:$p"
    cluster_node_start "$dir" "$p"
  done
  for i in $(seq 1 100); do
    local all=1
    for p in $(cluster_ports "$base"); do port_open "$p" || all=0; done
    [ "$all" = 1 ] && break
    sleep 0.1
  done
  for p in $(cluster_ports "$base"); do
    port_open "$p" && continue
    [ -s "$dir/$p/redis.log" ] && tail -n 5 "$dir/$p/redis.log" >&2
    die "Redis Cluster node 127.0.0.1:$p did not start (log $dir/$p/redis.log)"
  done

  # A fresh set of nodes (each knows only itself) is made into a cluster; nodes restarted
  # with their nodes.conf find each other again on their own.
  local fresh=1
  for p in $(cluster_ports "$base"); do [ "$(cluster_known "$p")" = 1 ] || fresh=0; done
  if [ "$fresh" = 1 ]; then
    log "Redis Cluster: creating 3 masters + 3 replicas on 127.0.0.1:$base..$((base + CLUSTER_SIZE - 1))"
    # shellcheck disable=SC2046
    redis-cli --cluster create $(cluster_ports "$base" | sed 's/^/127.0.0.1:/') \
      --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 9>&- \
      || { cat "$dir/create.log" >&2; die "redis-cli --cluster create failed"; }
  fi
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if cluster_healthy "$base"; then
      log "Redis Cluster ready: $(cluster_nodes_value "$base")"
      return 0
    fi
    sleep 0.2
  done
  for p in $(cluster_ports "$base"); do log "node $p: state=$(cluster_state "$p") known=$(cluster_known "$p")"; done
  die "Redis Cluster on $base..$((base + CLUSTER_SIZE - 1)) not healthy after 30 s (data $dir; 'redis-cluster-down' then 'redis-cluster-up' starts a new one)"
}

cluster_down() { # base [data dir]
  local base="$1" dir p pid
  dir="$(cluster_dir_for "$base" "${2:-}")"
  for p in $(cluster_ports "$base"); do
    if pid="$(cluster_node_pid "$dir" "$p")"; then
      kill -TERM "$pid" 2>/dev/null || true
    elif port_open "$p"; then
      log "port $p is open but no node started here ($dir) owns it; not stopping"
    fi
  done
  for p in $(cluster_ports "$base"); do
    local i
    for i in $(seq 1 50); do cluster_node_pid "$dir" "$p" >/dev/null || break; sleep 0.1; done
    if pid="$(cluster_node_pid "$dir" "$p")"; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "${dir:?}/$p"
  done
  log "Redis Cluster on $base..$((base + CLUSTER_SIZE - 1)) stopped and forgotten"
}

# ---------------------------------------------------------------- Kafka

kafka_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; else echo java; fi
}

kafka_libs_ok() {
  [ -f "$KAFKA_LIBS/.complete" ] && ls "$KAFKA_LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1
}

kafka_fetch() {
  kafka_libs_ok && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to fetch the Kafka jars)"
  local tmp="$KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  log "Kafka $KAFKA_VERSION: fetching jars with Maven into $KAFKA_LIBS"
  # Maven's output is kept in a file and shown only on failure (-q -B still prints colour resets).
  if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DoutputDirectory="$tmp" >"$CACHE/kafka-$KAFKA_VERSION/mvn.log" 2>&1 9>&-; then
    tail -n 40 "$CACHE/kafka-$KAFKA_VERSION/mvn.log" >&2
    rm -rf "$tmp"
    die "Maven could not fetch Kafka $KAFKA_VERSION (log: $CACHE/kafka-$KAFKA_VERSION/mvn.log)"
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after Maven"; }
  ls "$tmp"/*.jar | wc -l >"$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  log "Kafka $KAFKA_VERSION: $(cat "$KAFKA_LIBS/.complete") jars, $(du -sh "$KAFKA_LIBS" | cut -f1)"
}

# Data dir: --data-dir if given; else, when stopping, the dir the broker on that port was
# started with (recorded in $KAFKA_PORTS_DIR/<port>); else $CACHE/kafka-data-<port>.
kafka_data_dir_for() { # start|stop port [explicit dir]
  local mode="$1" port="$2" dir="${3:-}"
  if [ -n "$dir" ]; then
    mkdir -p "$dir"
    (cd "$dir" && pwd)
  elif [ "$mode" = stop ] && [ -s "$KAFKA_PORTS_DIR/$port" ]; then
    cat "$KAFKA_PORTS_DIR/$port"
  else
    echo "$CACHE/kafka-data-$port"
  fi
}

# pid of the broker recorded in <dir>/kafka.pid, if that process is alive and is ours.
kafka_pid() { # dir
  local pidf="$1/kafka.pid" pid
  [ -f "$pidf" ] || return 1
  pid="$(cat "$pidf" 2>/dev/null || true)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $1/server.properties" || return 1
  echo "$pid"
}

kafka_write_props() { # port dir
  local port="$1" dir="$2" cport=$(($1 + 1))
  cat >"$dir/server.properties" <<EOF
# Generated by scripts/services.sh -- single-node KRaft broker+controller for dev/tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/kraft-logs

num.partitions=3
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
# After a SIGKILL the old broker registration blocks re-registration until the session
# expires (default 9 s); keep that short so a killed test broker restarts quickly.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=5000

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

kafka_log_tail() { # dir
  local f
  for f in "$1/logs/server.log" "$1/kafka.out"; do
    if [ -s "$f" ]; then log "---- tail of $f"; tail -n 40 "$f" >&2; fi
  done
}

# server.log from byte offset <off> on (whole file if it was rotated since).
kafka_log_since() { # dir off
  local f="$1/logs/server.log" size
  size="$(stat -c %s "$f" 2>/dev/null || echo 0)"
  if [ "$size" -ge "$2" ]; then tail -c +"$(($2 + 1))" "$f"; else cat "$f"; fi
}

kafka_start() { # port [data dir]
  local port="$1" dir pid
  dir="$(kafka_data_dir_for start "$port" "${2:-}")"
  if port_open "$port"; then
    if pid="$(kafka_pid "$dir")"; then log "Kafka already running on 127.0.0.1:$port (pid $pid)"; else log "port 127.0.0.1:$port already open; assuming a Kafka broker"; fi
    return 0
  fi
  take_lock
  if port_open "$port"; then return 0; fi # started by a concurrent caller
  kafka_fetch

  mkdir -p "$dir/logs" "$KAFKA_PORTS_DIR"
  echo "$dir" >"$KAFKA_PORTS_DIR/$port"
  local log_off=0
  if pid="$(kafka_pid "$dir")"; then
    log "Kafka pid $pid in $dir exists but port $port is closed; waiting for it"
  else
    rm -f "$dir/kafka.pid"
    kafka_write_props "$port" "$dir"

    local java cp log4j
    java="$(kafka_java)"
    cp="$KAFKA_LIBS/*"
    log4j=(-Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" -Dkafka.logs.dir="$dir/logs")

    if [ ! -f "$dir/kraft-logs/meta.properties" ]; then
      local cid
      if [ -s "$dir/cluster.id" ]; then
        cid="$(cat "$dir/cluster.id")"
      else
        cid="$("$java" "${log4j[@]}" -cp "$cp" kafka.tools.StorageTool random-uuid 2>"$dir/storage-tool.err" 9>&- | tail -n 1)" \
          || { cat "$dir/storage-tool.err" >&2; die "StorageTool random-uuid failed"; }
        [ -n "$cid" ] || die "StorageTool random-uuid printed nothing"
        echo "$cid" >"$dir/cluster.id"
      fi
      log "Kafka: formatting $dir/kraft-logs (cluster id $cid)"
      "$java" "${log4j[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" \
        >"$dir/storage-tool.out" 2>&1 9>&- \
        || { cat "$dir/storage-tool.out" >&2; die "StorageTool format failed"; }
    fi

    log_off="$(stat -c %s "$dir/logs/server.log" 2>/dev/null || echo 0)"
    log "Kafka $KAFKA_VERSION: starting broker on 127.0.0.1:$port (controller $((port + 1))), data $dir"
    local heap
    read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
    (
      cd "$dir"
      exec setsid nohup "$java" "${heap[@]}" \
        -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
        "${log4j[@]}" -cp "$cp" kafka.Kafka "$dir/server.properties" \
        >"$dir/kafka.out" 2>&1 </dev/null 9>&-
    ) &
    pid=$!
    echo "$pid" >"$dir/kafka.pid"
    disown "$pid" 2>/dev/null || true
  fi

  # Ready = broker port accepts connections and the server logged that it finished starting.
  local deadline=$((SECONDS + KAFKA_WAIT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      kafka_log_tail "$dir"
      die "Kafka broker on port $port exited during startup"
    fi
    if port_open "$port" && kafka_log_since "$dir" "$log_off" | grep -q 'Kafka Server started'; then
      log "Kafka ready on 127.0.0.1:$port (pid $pid)"
      return 0
    fi
    sleep 0.3
  done
  kafka_log_tail "$dir"
  die "Kafka broker on port $port not ready after ${KAFKA_WAIT}s (pid $pid still running, left alone)"
}

kafka_stop() { # port [data dir]
  local port="$1" dir pid
  dir="$(kafka_data_dir_for stop "$port" "${2:-}")"
  if ! pid="$(kafka_pid "$dir")"; then
    rm -f "$dir/kafka.pid"
    if port_open "$port"; then
      log "port $port is open but no broker started by this script owns it (data dir $dir); not stopping"
      return 1
    fi
    log "Kafka on port $port is not running"
    return 0
  fi
  log "Kafka: stopping broker on port $port (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "Kafka pid $pid still alive after 20 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/kafka.pid"
  for i in $(seq 1 50); do port_open "$port" || break; sleep 0.1; done
  log "Kafka on port $port stopped (data kept in $dir)"
}

# ---------------------------------------------------------------- commands

status() {
  local name port
  for name in postgres:$PG_PORT redis:$REDIS_PORT kafka:$DEFAULT_KAFKA_PORT; do
    port="${name#*:}"
    if port_open "$port"; then echo "${name%%:*} 127.0.0.1:$port up"; else echo "${name%%:*} 127.0.0.1:$port down"; fi
  done
  if cluster_healthy "$DEFAULT_CLUSTER_PORT"; then
    echo "redis-cluster $(cluster_nodes_value "$DEFAULT_CLUSTER_PORT") up"
  else
    echo "redis-cluster 127.0.0.1:$DEFAULT_CLUSTER_PORT.. down"
  fi
  if [ -d "$KAFKA_PORTS_DIR" ]; then
    local f pid
    for f in "$KAFKA_PORTS_DIR"/*; do
      [ -f "$f" ] || continue
      port="$(basename "$f")"
      if pid="$(kafka_pid "$(cat "$f")")"; then
        echo "kafka broker started here: port $port pid $pid data $(cat "$f")"
      fi
    done
  fi
}

parse_kafka_args() {
  K_PORT="" K_DIR="" K_PORT_GIVEN=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) K_PORT="${2:?--port needs a value}"; shift 2 ;;
      --port=*) K_PORT="${1#*=}"; shift ;;
      --data-dir) K_DIR="${2:?--data-dir needs a value}"; shift 2 ;;
      --data-dir=*) K_DIR="${1#*=}"; shift ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  K_PORT_GIVEN="$K_PORT"
  [ -n "$K_PORT" ] || K_PORT="$DEFAULT_KAFKA_PORT"
  [[ "$K_PORT" =~ ^[0-9]+$ ]] || die "bad port: $K_PORT"
}

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  up)
    # fast path: nothing to do
    if port_open "$PG_PORT" && port_open "$REDIS_PORT" && port_open "$DEFAULT_KAFKA_PORT"; then exit 0; fi
    pg_up
    redis_up
    kafka_start "$DEFAULT_KAFKA_PORT"
    ;;
  down) kafka_stop "$DEFAULT_KAFKA_PORT" ;;
  status) status ;;
  kafka-start) parse_kafka_args "$@"; kafka_start "$K_PORT" "$K_DIR" ;;
  kafka-stop) parse_kafka_args "$@"; kafka_stop "$K_PORT" "$K_DIR" ;;
  redis-cluster-up) parse_kafka_args "$@"; cluster_up "${K_PORT_GIVEN:-$DEFAULT_CLUSTER_PORT}" "$K_DIR" ;;
  redis-cluster-down) parse_kafka_args "$@"; cluster_down "${K_PORT_GIVEN:-$DEFAULT_CLUSTER_PORT}" "$K_DIR" ;;
  redis-cluster-nodes) parse_kafka_args "$@"; cluster_nodes_value "${K_PORT_GIVEN:-$DEFAULT_CLUSTER_PORT}" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
