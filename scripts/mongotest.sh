#!/usr/bin/env bash
# Starts and stops the throwaway MongoDB wire-protocol server of tools/mongotest
# (embedded FerretDB on 127.0.0.1, SQLite data in a temporary directory).
#
#   scripts/mongotest.sh start   build it, start it in the background, print its URI
#   scripts/mongotest.sh stop    stop it (SIGTERM, then SIGKILL after 10 s)
#
# State lives in .cache/mongotest/ under the repo root: the binary, "pid",
# "uri" and "log" (the server's stdout/stderr). MONGOTEST_BIN overrides the
# binary path. Both subcommands are safe to run twice: "start" while running
# prints the running server's URI, "stop" with nothing running succeeds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state="$root/.cache/mongotest"
BIN="${MONGOTEST_BIN:-$state/mongotest}"
pid_file="$state/pid"
uri_file="$state/uri"
log_file="$state/log"

die() {
  echo "mongotest.sh: $*" >&2
  exit 1
}

# alive PID: true if PID is a live (non-zombie) process.
alive() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    local st
    st=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ "$st" != Z ] || return 1
  fi
  return 0
}

# ours PID: true if PID is alive and (where /proc exists) was started by us,
# guarding against a recycled PID.
ours() {
  local pid=$1
  alive "$pid" || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmd" == *"-uri-file $uri_file"* ]] || return 1
  fi
  return 0
}

read_pid() {
  local pid=""
  [ -f "$pid_file" ] && pid=$(tr -dc '0-9' <"$pid_file")
  echo "$pid"
}

stop() {
  local pid
  pid=$(read_pid)
  if [ -n "$pid" ] && ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do # 10 s
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "mongotest.sh: pid $pid did not stop within 10s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pid_file" "$uri_file"
}

start() {
  mkdir -p "$state"

  # Already running: report its URI.
  local pid
  pid=$(read_pid)
  if [ -n "$pid" ] && ours "$pid" && [ -s "$uri_file" ]; then
    cat "$uri_file"
    echo
    return 0
  fi
  stop # clear a stale pid/uri file or a half-started server

  echo "mongotest.sh: building tools/mongotest" >&2
  (cd "$root/tools/mongotest" && go build -o "$BIN" .) >&2 || die "build failed"

  # stdout/stderr to the log file so that a caller capturing our stdout with
  # $(...) does not wait for the server to exit.
  "$BIN" -uri-file "$uri_file" </dev/null >"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"

  local i
  for ((i = 0; i < 600; i++)); do # 60 s
    if [ -s "$uri_file" ]; then
      cat "$uri_file"
      echo
      return 0
    fi
    if ! alive "$pid"; then
      echo "mongotest.sh: server exited before it was ready; its log:" >&2
      tail -n 50 "$log_file" >&2 || true
      rm -f "$pid_file" "$uri_file"
      exit 1
    fi
    sleep 0.1
  done
  echo "mongotest.sh: server not ready after 60s; its log:" >&2
  tail -n 50 "$log_file" >&2 || true
  stop
  exit 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop" ;;
esac
