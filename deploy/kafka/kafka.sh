#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) for development and tests.
#
#   kafka.sh fetch    download the broker jars from Maven Central into the cache (skipped when present)
#   kafka.sh start    format fresh storage, start the broker on free ports, wait until it answers a
#                     Metadata request; the last stdout line is the bootstrap address (127.0.0.1:PORT)
#   kafka.sh stop     SIGTERM the broker it started (SIGKILL after a timeout), delete its storage
#   kafka.sh status   print the bootstrap address and exit 0 if running, else exit 3
#
# Environment (defaults in brackets):
#   KAFKA_VERSION              [4.4.0] any 4.x or 3.9.x release of org.apache.kafka:kafka_2.13
#   SEQUOR_CACHE               [$HOME/.cache/sequor] jars go to $SEQUOR_CACHE/kafka-<version>/libs
#   SEQUOR_KAFKA_STATE         [/tmp/sequor-kafka] pid, bootstrap address, server.properties, kafka.log
#   SEQUOR_KAFKA_PORT          [a free port] client listener port
#   SEQUOR_KAFKA_HEAP          [-Xms256m -Xmx1g]
#   SEQUOR_KAFKA_JVM_OPTS      [-XX:TieredStopAtLevel=1 -XX:+UseSerialGC] (quick start on small machines)
#   SEQUOR_KAFKA_READY_TIMEOUT [90] seconds to wait for the broker to answer
#   SEQUOR_KAFKA_STOP_TIMEOUT  [30] seconds between SIGTERM and SIGKILL
#   SEQUOR_KAFKA_OWNER_PID     [unset] stop the broker when this process exits (test runners set it so an
#                              interrupted run does not leave a broker behind)
#
# kafkajs 2.2.4 against Kafka 4.x (KIP-896 removed the oldest protocol versions): every request kafkajs
# sends is still accepted, checked with produce, consumer groups, admin and transactions. It negotiates
# ApiVersions v2, Metadata v6, Produce v7, Fetch v11, ListOffsets v3, CreateTopics v3, DeleteTopics v1,
# FindCoordinator v2, JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v3, OffsetCommit v5,
# OffsetFetch v4, DescribeConfigs v2, InitProducerId v1, AddPartitionsToTxn v1, AddOffsetsToTxn v1,
# TxnOffsetCommit v1, EndTxn v1. What it lacks is not a failure but a limit: TxnOffsetCommit v1 carries no
# group metadata (no KIP-447 fencing) and OffsetFetch v4 has no require_stable (see shared/kafka/README.md).
# The same suite passes on 3.9.2: KAFKA_VERSION=3.9.2 stays available should a later 4.x drop a version.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SEQUOR_CACHE:-$HOME/.cache/sequor}"
KAFKA_HOME="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
STATE_DIR="${SEQUOR_KAFKA_STATE:-/tmp/sequor-kafka}"
READY_TIMEOUT="${SEQUOR_KAFKA_READY_TIMEOUT:-90}"
STOP_TIMEOUT="${SEQUOR_KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${SEQUOR_KAFKA_HEAP:--Xms256m -Xmx1g}"
# C1 only and the serial collector: half the CPU to start (format 4.2 -> 2.2 CPU-s measured) on a small,
# busy machine, and fewer JVM threads competing with the tests. Peak throughput matters less here.
JVM_OPTS="${SEQUOR_KAFKA_JVM_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"

log() { echo "kafka.sh: $*" >&2; }
# shellcheck source=../lib/server-process.sh
. "$SCRIPT_DIR/../lib/server-process.sh"
die() { log "$*"; exit 1; }

case "$KAFKA_VERSION" in
  3.9.*) LOGGING_PROFILE=reload4j ;;
  4.*) LOGGING_PROFILE=log4j2 ;;
  *) die "KAFKA_VERSION=$KAFKA_VERSION: expected a 4.x or 3.9.x release (KRaft only)" ;;
esac

require() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH: $2"; }

# --- fetch -------------------------------------------------------------------------------------------
fetch() {
  if [[ -f "$LIBS/.complete" ]]; then
    return 0
  fi
  require java "install a JDK 17+ (Kafka 4.x brokers need Java 17)"
  require mvn "install Apache Maven 3.6+ (it downloads the broker jars from Maven Central)"
  mkdir -p "$CACHE_ROOT"
  # One download at a time per version; a second caller waits, then finds the jars in place.
  exec 8>"$CACHE_ROOT/.kafka-$KAFKA_VERSION.lock"
  flock 8
  if [[ -f "$LIBS/.complete" ]]; then
    exec 8>&-
    return 0
  fi
  local started tmp
  started=$(date +%s)
  tmp="$(mktemp -d "$CACHE_ROOT/.kafka-$KAFKA_VERSION.XXXXXX")"
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies into $LIBS"
  # Maven's output is shown only when it fails (quiet mode still prints colour resets).
  if ! mvn -q -B -Dstyle.color=never -f "$SCRIPT_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
      -P"$LOGGING_PROFILE" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1; then
    cat "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "maven could not resolve kafka_2.13:$KAFKA_VERSION (is Maven Central reachable?)"
  fi
  rm -f "$tmp/mvn.log"
  [[ -f "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after download"; }
  touch "$tmp/libs/.complete"
  rm -rf "$KAFKA_HOME"
  mv "$tmp" "$KAFKA_HOME"
  exec 8>&-
  log "fetched $(ls "$LIBS" | wc -l) jars in $(( $(date +%s) - started )) s"
}

# --- state -------------------------------------------------------------------------------------------
pid_file="$STATE_DIR/kafka.pid"
bootstrap_file="$STATE_DIR/bootstrap"
data_dir_file="$STATE_DIR/data-dir"
watchdog_pid_file="$STATE_DIR/watchdog.pid"
properties_file="$STATE_DIR/server.properties"
log_file="$STATE_DIR/kafka.log"

# Ours only if that process is a broker started with our properties file.
broker_pid() { verified_pid "$pid_file" "kafka.Kafka $properties_file"; }

remove_storage() {
  if [[ -f "$data_dir_file" ]]; then
    local dir
    dir="$(cat "$data_dir_file")"
    # Only ever delete a directory this script created.
    [[ "$(basename "$dir")" == sequor-kafka-data.* ]] && rm -rf "$dir"
  fi
  rm -f "$pid_file" "$bootstrap_file" "$data_dir_file" "$watchdog_pid_file"
}

java_logging_opts() {
  echo "-Dlog4j2.configurationFile=file:$SCRIPT_DIR/log4j2.properties -Dlog4j.configuration=file:$SCRIPT_DIR/log4j.properties"
}

# --- start -------------------------------------------------------------------------------------------
start() {
  lock_state
  local pid
  if pid="$(broker_pid)"; then
    log "already running (pid $pid, log $log_file)"
    cat "$bootstrap_file"
    return 0
  fi
  remove_storage
  fetch
  require node "install Node.js 20+ (the readiness probe is a small node script)"

  local started ports port controller_port data_dir cluster_id
  started=$(date +%s%N)
  ports="$(node "$SCRIPT_DIR/probe.mjs" free-ports 2)"
  port="${SEQUOR_KAFKA_PORT:-${ports%% *}}"
  controller_port="${ports##* }"
  if [[ "$controller_port" == "$port" ]]; then controller_port="${ports%% *}"; fi
  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/sequor-kafka-data.XXXXXX")"
  echo "$data_dir" >"$data_dir_file"
  # A random 16-byte UUID in Kafka's URL-safe base64 form, as `kafka-storage random-uuid` prints it.
  # It starts with '-' one time in 64: passed as --cluster-id=ID so argparse cannot take it for an option.
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"

  cat >"$properties_file" <<EOF
# Written by deploy/kafka/kafka.sh: one combined broker+controller for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$data_dir
# Topics are created on purpose (ensureTopics), never by a typo in a producer.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# Single node: internal topics cannot have more replicas than brokers. Few partitions make the first
# consumer group and the first transaction fast; there is one broker to spread them over anyway.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups one after another; the default 3 s delay would make every join 3 s slower.
group.initial.rebalance.delay.ms=0
EOF

  local logging
  logging="$(java_logging_opts)"
  : >"$log_file"
  # shellcheck disable=SC2086 # JVM_OPTS, HEAP_OPTS and logging are lists of JVM options
  if ! java $JVM_OPTS $logging -cp "$LIBS/*" kafka.tools.StorageTool format --config "$properties_file" \
      "--cluster-id=$cluster_id" >>"$log_file" 2>&1 9>&-; then
    tail -n 30 "$log_file" >&2
    remove_storage
    die "formatting KRaft storage failed (log: $log_file)"
  fi

  # shellcheck disable=SC2086
  nohup java $HEAP_OPTS $JVM_OPTS -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true $logging -cp "$LIBS/*" kafka.Kafka "$properties_file" \
    >>"$log_file" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$pid_file"

  if ! node "$SCRIPT_DIR/probe.mjs" ready "127.0.0.1:$port" "$READY_TIMEOUT" "$pid"; then
    tail -n 40 "$log_file" >&2
    stop_locked
    die "broker did not become ready (log: $log_file)"
  fi
  echo "127.0.0.1:$port" >"$bootstrap_file"

  if [[ -n "${SEQUOR_KAFKA_OWNER_PID:-}" ]]; then
    watch_owner "$SEQUOR_KAFKA_OWNER_PID" "$pid" "$watchdog_pid_file" "$log_file" \
      env SEQUOR_KAFKA_FROM_WATCHDOG=1 "$SCRIPT_DIR/kafka.sh" stop
  fi

  local elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  log "Kafka $KAFKA_VERSION (KRaft) ready at 127.0.0.1:$port in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s (pid $pid, log $log_file)"
  echo "127.0.0.1:$port"
}

# --- stop --------------------------------------------------------------------------------------------
stop_locked() {
  local pid
  if [[ -z "${SEQUOR_KAFKA_FROM_WATCHDOG:-}" && -f "$watchdog_pid_file" ]]; then
    kill "$(cat "$watchdog_pid_file")" 2>/dev/null || true
  fi
  if pid="$(broker_pid)"; then
    terminate_pid broker "$pid" "$STOP_TIMEOUT"
  else
    log "not running"
  fi
  remove_storage
}

stop() {
  lock_state
  stop_locked
}

status() {
  local pid
  if pid="$(broker_pid)" && [[ -f "$bootstrap_file" ]]; then
    log "running (pid $pid, Kafka $KAFKA_VERSION, log $log_file)"
    cat "$bootstrap_file"
    return 0
  fi
  log "not running"
  return 3
}

case "${1:-}" in
  fetch) fetch; log "Kafka $KAFKA_VERSION jars in $LIBS" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {fetch|start|stop|status}" >&2; exit 64 ;;
esac
