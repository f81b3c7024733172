#!/usr/bin/env bash
# Local Confluent-compatible schema registry for development and tests: Apicurio Registry 2.4.2.Final,
# built from Maven Central (see pom.xml for why that version and how), in-memory storage, no Kafka needed.
#
#   registry.sh fetch    build the registry into the cache (skipped when present; ~300 MB of Maven
#                        downloads and a Quarkus build the first time, a few minutes)
#   registry.sh start    start it on a free port of 127.0.0.1 and wait until its Confluent API answers;
#                        the last stdout line is the URL for SCHEMA_REGISTRY_URL
#                        (http://127.0.0.1:PORT/apis/ccompat/v7)
#   registry.sh stop     SIGTERM the registry it started (SIGKILL after a timeout); its data is in memory
#   registry.sh status   print the URL and exit 0 if running, else exit 3
#
# Differences from Confluent's registry worth knowing in tests: the global compatibility level is NONE
# (Confluent: BACKWARD), so set it per subject with PUT /config/{subject}; a 409 carries error_code 0
# (Confluent: 409); a compatibility check's reasons come in `reason` (Confluent: `messages`).
#
# Environment (defaults in brackets):
#   SEQUOR_CACHE                  [$HOME/.cache/sequor] build goes to $SEQUOR_CACHE/apicurio-registry-<version>
#   SEQUOR_REGISTRY_STATE         [/tmp/sequor-schema-registry] pid, URL, registry.log
#   SEQUOR_REGISTRY_PORT          [a free port] HTTP port
#   SEQUOR_REGISTRY_HEAP          [-Xms128m -Xmx512m]
#   SEQUOR_REGISTRY_JVM_OPTS      [-XX:TieredStopAtLevel=1 -XX:+UseSerialGC] (quick start on small machines)
#   SEQUOR_REGISTRY_READY_TIMEOUT [150] seconds to wait for the API to answer
#   SEQUOR_REGISTRY_STOP_TIMEOUT  [20] seconds between SIGTERM and SIGKILL
#   SEQUOR_REGISTRY_OWNER_PID     [unset] stop the registry when this process exits (test runners set it)
set -euo pipefail

APICURIO_VERSION=2.4.2.Final
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SEQUOR_CACHE:-$HOME/.cache/sequor}"
# The build inputs' hash is part of the name, so an edited pom.xml or Java file means a fresh build.
INPUTS_HASH="$(cd "$SCRIPT_DIR" && cat pom.xml settings.xml src/main/resources/application.properties \
  src/main/java/dev/sequor/registry/*.java | sha256sum | cut -c1-12)"
REGISTRY_HOME="$CACHE_ROOT/apicurio-registry-$APICURIO_VERSION-$INPUTS_HASH"
STATE_DIR="${SEQUOR_REGISTRY_STATE:-/tmp/sequor-schema-registry}"
READY_TIMEOUT="${SEQUOR_REGISTRY_READY_TIMEOUT:-150}"
STOP_TIMEOUT="${SEQUOR_REGISTRY_STOP_TIMEOUT:-20}"
HEAP_OPTS="${SEQUOR_REGISTRY_HEAP:--Xms128m -Xmx512m}"
JVM_OPTS="${SEQUOR_REGISTRY_JVM_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
API_PATH=/apis/ccompat/v7

log() { echo "registry.sh: $*" >&2; }
# shellcheck source=../lib/server-process.sh
. "$SCRIPT_DIR/../lib/server-process.sh"
die() { log "$*"; exit 1; }
require() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH: $2"; }

# --- fetch -------------------------------------------------------------------------------------------
fetch() {
  if [[ -f "$REGISTRY_HOME/.complete" ]]; then
    return 0
  fi
  require java "install a JDK 17+"
  require mvn "install Apache Maven 3.8+ (it downloads Apicurio Registry and Quarkus from Maven Central)"
  mkdir -p "$CACHE_ROOT"
  exec 8>"$CACHE_ROOT/.apicurio-registry.lock"
  flock 8
  if [[ -f "$REGISTRY_HOME/.complete" ]]; then
    exec 8>&-
    return 0
  fi
  local started tmp
  started=$(date +%s)
  tmp="$(mktemp -d "$CACHE_ROOT/.apicurio-registry.XXXXXX")"
  # Build in a copy: Maven writes target/ next to the pom, and the git tree stays clean.
  cp -R "$SCRIPT_DIR/pom.xml" "$SCRIPT_DIR/settings.xml" "$SCRIPT_DIR/src" "$tmp/"
  log "building Apicurio Registry $APICURIO_VERSION from Maven Central into $REGISTRY_HOME"
  if ! mvn -B -Dstyle.color=never -s "$tmp/settings.xml" -f "$tmp/pom.xml" package -DskipTests \
      >"$tmp/mvn.log" 2>&1 8>&-; then
    grep -E '^\[(ERROR|WARNING)\]' "$tmp/mvn.log" | head -n 40 >&2 || tail -n 40 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "the registry build failed (is Maven Central reachable?)"
  fi
  mkdir -p "$tmp/home"
  if [[ -d "$tmp/target/quarkus-app" ]]; then
    mv "$tmp/target/quarkus-app" "$tmp/home/app"
    echo "app/quarkus-run.jar" >"$tmp/home/main-jar"
  else
    mkdir "$tmp/home/app"
    mv "$tmp/target/"*-runner.jar "$tmp/home/app/"
    mv "$tmp/target/lib" "$tmp/home/app/lib"
    echo "app/$(basename "$(ls "$tmp/home/app/"*-runner.jar)")" >"$tmp/home/main-jar"
  fi
  touch "$tmp/home/.complete"
  rm -rf "$REGISTRY_HOME"
  mv "$tmp/home" "$REGISTRY_HOME"
  rm -rf "$tmp"
  exec 8>&-
  log "built in $(( $(date +%s) - started )) s ($(du -sh "$REGISTRY_HOME" | cut -f1))"
}

# --- state -------------------------------------------------------------------------------------------
pid_file="$STATE_DIR/registry.pid"
url_file="$STATE_DIR/url"
watchdog_pid_file="$STATE_DIR/watchdog.pid"
log_file="$STATE_DIR/registry.log"
# Marks our JVM on its command line, so a stale PID file never makes us signal an unrelated process.
marker="-Dsequor.registry.state=$STATE_DIR"

registry_pid() { verified_pid "$pid_file" "$marker"; }

free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();});"
}

# Polls GET <url>/subjects until it answers 200, the JVM dies, or the timeout passes.
wait_ready() {
  local url="$1" pid="$2"
  node -e "
    const [url, pid, timeoutS] = process.argv.slice(1);
    const deadline = Date.now() + Number(timeoutS) * 1000;
    const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
    (async () => {
      for (;;) {
        try {
          const r = await fetch(url + '/subjects', { signal: AbortSignal.timeout(5000) });
          if (r.status === 200) process.exit(0);
        } catch {}
        if (!alive()) { console.error('registry.sh: the registry exited during start'); process.exit(1); }
        if (Date.now() > deadline) { console.error('registry.sh: no answer within ' + timeoutS + ' s'); process.exit(1); }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  " "$url" "$pid" "$READY_TIMEOUT"
}

# --- start -------------------------------------------------------------------------------------------
start() {
  lock_state
  local pid
  if pid="$(registry_pid)"; then
    log "already running (pid $pid, log $log_file)"
    cat "$url_file"
    return 0
  fi
  rm -f "$pid_file" "$url_file" "$watchdog_pid_file"
  fetch
  require node "install Node.js 20+ (the readiness probe is a small node script)"
  local started port url
  started=$(date +%s%N)
  port="${SEQUOR_REGISTRY_PORT:-$(free_port)}"
  url="http://127.0.0.1:$port$API_PATH"
  : >"$log_file"
  # shellcheck disable=SC2086 # HEAP_OPTS and JVM_OPTS are lists of JVM options
  nohup java $HEAP_OPTS $JVM_OPTS -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "$marker" \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -jar "$REGISTRY_HOME/$(cat "$REGISTRY_HOME/main-jar")" >>"$log_file" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$pid_file"
  if ! wait_ready "$url" "$pid"; then
    grep -v 'AuditLogService' "$log_file" | tail -n 40 >&2
    stop_locked
    die "the registry did not become ready (log: $log_file)"
  fi
  echo "$url" >"$url_file"
  if [[ -n "${SEQUOR_REGISTRY_OWNER_PID:-}" ]]; then
    watch_owner "$SEQUOR_REGISTRY_OWNER_PID" "$pid" "$watchdog_pid_file" "$log_file" \
      env SEQUOR_REGISTRY_FROM_WATCHDOG=1 "$SCRIPT_DIR/registry.sh" stop
  fi
  local elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  log "Apicurio Registry $APICURIO_VERSION ready at $url in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s (pid $pid, log $log_file)"
  echo "$url"
}

# --- stop --------------------------------------------------------------------------------------------
stop_locked() {
  local pid
  if [[ -z "${SEQUOR_REGISTRY_FROM_WATCHDOG:-}" && -f "$watchdog_pid_file" ]]; then
    kill "$(cat "$watchdog_pid_file")" 2>/dev/null || true
  fi
  if pid="$(registry_pid)"; then
    terminate_pid registry "$pid" "$STOP_TIMEOUT"
  else
    log "not running"
  fi
  rm -f "$pid_file" "$url_file" "$watchdog_pid_file"
}

stop() {
  lock_state
  stop_locked
}

status() {
  local pid
  if pid="$(registry_pid)" && [[ -f "$url_file" ]]; then
    log "running (pid $pid, Apicurio Registry $APICURIO_VERSION, log $log_file)"
    cat "$url_file"
    return 0
  fi
  log "not running"
  return 3
}

case "${1:-}" in
  fetch) fetch; log "Apicurio Registry $APICURIO_VERSION in $REGISTRY_HOME" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {fetch|start|stop|status}" >&2; exit 64 ;;
esac
