# Sourced by the deploy scripts that run a server in the background on this machine (kafka/kafka.sh,
# schema-registry/registry.sh, otel/collector.sh): state-dir locking, PID checks, stopping, and the
# watchdog that stops a server its owner (a test runner) left behind. The caller defines log() and
# STATE_DIR. Only functions: sourcing it runs nothing.

# Serialises start/stop on STATE_DIR. Holds fd 9 until the script exits; children must close it (9>&-).
lock_state() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  flock 9
}

# verified_pid PID_FILE MARKER: prints the PID in PID_FILE if that process's command line contains
# MARKER (a string only our server's command line has), else fails: a stale PID file must never make
# us signal an unrelated process that reused the number.
verified_pid() {
  local pid_file="$1" marker="$2" pid
  [[ -f "$pid_file" ]] || return 1
  pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -qF -- "$marker" || return 1
  echo "$pid"
}

# terminate_pid NAME PID TIMEOUT_S: SIGTERM, up to TIMEOUT_S seconds for the process to exit, then SIGKILL.
terminate_pid() {
  local name="$1" pid="$2" timeout="$3" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && (( waited < timeout * 10 )); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name $pid still running ${timeout}s after SIGTERM: sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  log "stopped $name $pid"
}

# watch_owner OWNER_PID SERVER_PID WATCHDOG_PID_FILE LOG_FILE COMMAND...: in the background, runs
# COMMAND once OWNER_PID is gone while SERVER_PID still runs (a test runner killed before its teardown).
# Its PID goes to WATCHDOG_PID_FILE (unless empty), so a normal stop can end it first.
watch_owner() {
  local owner="$1" server="$2" watchdog_pid_file="$3" watchdog_log="$4"
  shift 4
  # The subshell must not inherit the state lock (fd 9), or the next start/stop would wait for it.
  (
    exec 9>&-
    trap '' INT HUP
    while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
    if kill -0 "$server" 2>/dev/null; then "$@"; fi
  ) </dev/null >>"$watchdog_log" 2>&1 &
  if [[ -n "$watchdog_pid_file" ]]; then echo $! >"$watchdog_pid_file"; fi
  disown $! 2>/dev/null || true
}
