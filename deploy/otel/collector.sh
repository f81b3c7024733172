#!/usr/bin/env bash
# Runs the test OpenTelemetry Collector (built by install-collector.sh) on free 127.0.0.1 ports: an OTLP
# receiver (gRPC and HTTP) whose traces go to a file exporter (OTLP JSON, one request per line), so tests
# can read what arrived, and to the debug exporter (collector.log).
#
#   collector.sh start    start it, wait until the OTLP/HTTP port accepts connections; the last stdout
#                         line is the OTLP/HTTP endpoint (http://127.0.0.1:PORT, for OTEL_EXPORTER_OTLP_ENDPOINT)
#   collector.sh stop     SIGTERM it (SIGKILL after a timeout)
#   collector.sh status   print the endpoint and exit 0 if running, else exit 3
#
# Environment (defaults in brackets):
#   SEQUOR_CACHE               [$HOME/.cache/sequor] where install-collector.sh put the binary
#   SEQUOR_OTELCOL_STATE       [/tmp/sequor-otelcol] pid, endpoints, config.yaml, traces.jsonl, collector.log
#   SEQUOR_OTELCOL_OWNER_PID   [unset] stop the collector when this process exits (test runners set it)
#   SEQUOR_OTELCOL_READY_TIMEOUT [30] seconds
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SEQUOR_CACHE:-$HOME/.cache/sequor}"
BIN="$CACHE_ROOT/otelcol/sequor-otelcol"
STATE_DIR="${SEQUOR_OTELCOL_STATE:-/tmp/sequor-otelcol}"
READY_TIMEOUT="${SEQUOR_OTELCOL_READY_TIMEOUT:-30}"
STOP_TIMEOUT=10

pid_file="$STATE_DIR/collector.pid"
endpoint_file="$STATE_DIR/otlp-http-endpoint"
grpc_file="$STATE_DIR/otlp-grpc-endpoint"
config_file="$STATE_DIR/config.yaml"
traces_file="$STATE_DIR/traces.jsonl"
log_file="$STATE_DIR/collector.log"

log() { echo "collector.sh: $*" >&2; }
# shellcheck source=../lib/server-process.sh
. "$SCRIPT_DIR/../lib/server-process.sh"
die() { log "$*"; exit 1; }

# Ours only if that process is our binary running our config.
collector_pid() { verified_pid "$pid_file" "--config $config_file"; }

# Two distinct free ports on 127.0.0.1 (the kernel picks; a tiny race with other processes is accepted).
free_ports() {
  node -e '
    const net = require("node:net");
    const pick = () => new Promise((resolve, reject) => {
      const server = net.createServer().once("error", reject);
      server.listen(0, "127.0.0.1", () => { const { port } = server.address(); server.close(() => resolve(port)); });
    });
    (async () => { const a = await pick(); let b = await pick(); while (b === a) b = await pick(); console.log(a, b); })();'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  lock_state
  local pid
  if pid="$(collector_pid)"; then
    log "already running (pid $pid, log $log_file)"
    cat "$endpoint_file"
    return 0
  fi
  [[ -x "$BIN" ]] || die "no collector at $BIN: run bash deploy/otel/install-collector.sh first"
  local ports grpc_port http_port started
  ports="$(free_ports)"
  grpc_port="${ports%% *}"
  http_port="${ports##* }"
  rm -f "$traces_file" "$log_file"
  cat >"$config_file" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$grpc_port
      http:
        endpoint: 127.0.0.1:$http_port
exporters:
  file:
    path: $traces_file
    format: json
    flush_interval: 100ms
  debug:
    verbosity: basic
service:
  telemetry:
    # No self-metrics server: it would bind :8888 and collide with a second collector or anything else.
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file, debug]
YAML
  started=$(date +%s%N)
  # setsid: the collector outlives this script but not the test run (see the watchdog below).
  # 9>&-: the child must not inherit the state lock, or the next stop would wait on it forever.
  setsid "$BIN" --config "$config_file" >"$log_file" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until port_open "$http_port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log_file" >&2
      rm -f "$pid_file"
      die "the collector exited during start"
    fi
    if (( $(date +%s) > deadline )); then
      kill "$pid" 2>/dev/null || true
      cat "$log_file" >&2
      rm -f "$pid_file"
      die "the OTLP/HTTP port $http_port did not open within $READY_TIMEOUT s"
    fi
    sleep 0.1
  done
  echo "127.0.0.1:$grpc_port" >"$grpc_file"
  echo "http://127.0.0.1:$http_port" >"$endpoint_file"
  if [[ -n "${SEQUOR_OTELCOL_OWNER_PID:-}" ]]; then
    watch_owner "$SEQUOR_OTELCOL_OWNER_PID" "$pid" "" /dev/null kill "$pid"
  fi
  log "collector pid $pid ready in $(( ($(date +%s%N) - started) / 1000000 )) ms: OTLP/HTTP 127.0.0.1:$http_port," \
    "OTLP/gRPC 127.0.0.1:$grpc_port, traces to $traces_file, log $log_file"
  cat "$endpoint_file"
}

stop() {
  lock_state
  local pid
  if ! pid="$(collector_pid)"; then
    log "not running"
    rm -f "$pid_file" "$endpoint_file" "$grpc_file"
    return 0
  fi
  terminate_pid collector "$pid" "$STOP_TIMEOUT"
  rm -f "$pid_file" "$endpoint_file" "$grpc_file"
}

status() {
  if collector_pid >/dev/null; then
    cat "$endpoint_file"
  else
    exit 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: collector.sh start|stop|status" ;;
esac
