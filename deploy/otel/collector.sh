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
die() { log "$*"; exit 1; }

# The PID is ours only if that process is our binary running our config: never signal a reused PID.
collector_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -qF -- "--config $config_file" || return 1
  echo "$pid"
}

lock_state() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  flock 9
}

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
    local owner="$SEQUOR_OTELCOL_OWNER_PID"
    ( trap '' HUP; while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 2; done
      kill "$pid" 2>/dev/null || true ) >/dev/null 2>&1 </dev/null 9>&- &
    disown
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
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(date +%s) > deadline )); then
      log "no exit after SIGTERM within $STOP_TIMEOUT s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$pid_file" "$endpoint_file" "$grpc_file"
  log "stopped pid $pid"
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
