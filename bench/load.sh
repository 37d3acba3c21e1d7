#!/usr/bin/env bash
# Loopback load test of the example server with wrk (Debian package "wrk"):
# 10 s, 64 connections, 127.0.0.1 only, for the client_credentials token
# request and for GET /api/me with a bearer token. Writes
# bench/results/load.md, which `make bench` puts into docs/performance.md.
# Not part of make test.
#
#   LOAD_ADDR=127.0.0.1:9096           where the example listens (loopback only)
#   LOAD_EXAMPLE_ARGS                  flags for the example binary, e.g. to
#                                      make it listen on LOAD_ADDR
#   LOAD_CLIENT_ID / LOAD_CLIENT_SECRET a confidential client of the example
#                                      allowed to use client_credentials
#                                      (default the example's demo-service)
#   LOAD_SCOPE=read                    scope to request (empty: none)
#   LOAD_TOKEN_PATH=/oauth/token, LOAD_ME_PATH=/api/me
#   LOAD_DURATION=10s LOAD_CONNECTIONS=64 LOAD_THREADS=2
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

addr=${LOAD_ADDR:-127.0.0.1:9096}
case "$addr" in
  127.0.0.1:*) ;;
  *) echo "load: LOAD_ADDR must be on 127.0.0.1" >&2; exit 2 ;;
esac
duration=${LOAD_DURATION:-10s}
conns=${LOAD_CONNECTIONS:-64}
threads=${LOAD_THREADS:-2}
export LOAD_TOKEN_PATH=${LOAD_TOKEN_PATH:-/oauth/token}
export LOAD_ME_PATH=${LOAD_ME_PATH:-/api/me}
client_id=${LOAD_CLIENT_ID:-demo-service}
client_secret=${LOAD_CLIENT_SECRET:-demo-service-secret}

if [ ! -d "$root/example" ]; then
  echo "load: no ./example in this checkout; the load test is pending" >&2
  exit 0
fi
command -v wrk >/dev/null || { echo "load: wrk not installed (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/example" ./example)
# shellcheck disable=SC2086 # LOAD_EXAMPLE_ARGS is a list of flags
"$tmp/example" ${LOAD_EXAMPLE_ARGS:-} >"$tmp/example.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://$addr/" && break
  sleep 0.1
done

urlenc() { python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
export LOAD_BASIC="Basic $(printf '%s:%s' "$(urlenc "$client_id")" "$(urlenc "$client_secret")" | base64 -w0)"
export LOAD_SCOPE=${LOAD_SCOPE:-read}

body="grant_type=client_credentials"
[ -n "$LOAD_SCOPE" ] && body="$body&scope=$LOAD_SCOPE"
resp=$(curl -sf -X POST -H "Authorization: $LOAD_BASIC" -d "$body" "http://$addr$LOAD_TOKEN_PATH")
LOAD_TOKEN=$(printf '%s' "$resp" | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
export LOAD_TOKEN

run() { # name script path
  echo "load: $1" >&2
  wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$here/load/$2" "http://$addr$3" | tee "$tmp/$2.out" >&2
  grep '^RESULT' "$tmp/$2.out" | sed 's/^RESULT //'
}
tok=$(run "client_credentials" token.lua "$LOAD_TOKEN_PATH")
me=$(run "GET /api/me" me.lua "$LOAD_ME_PATH")

field() { printf '%s' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ms() { awk -v us="$1" 'BEGIN{printf "%.2f ms", us/1000}'; }
mkdir -p "$here/results"
{
  echo "\`wrk -t$threads -c$conns -d$duration\` against \`go run ./example\` on $addr ($(date -u +%Y-%m-%d))."
  echo
  echo "| request | requests/s | p50 | p99 | non-2xx | socket errors |"
  echo "|---|---:|---:|---:|---:|---:|"
  for row in "POST $LOAD_TOKEN_PATH (client_credentials)|$tok" "GET $LOAD_ME_PATH (bearer)|$me"; do
    name=${row%%|*}; r=${row#*|}
    echo "| $name | $(field "$r" rps) | $(ms "$(field "$r" p50_us)") | $(ms "$(field "$r" p99_us)") | $(field "$r" non2xx) | $(field "$r" errors) |"
  done
} >"$here/results/load.md"
cat "$here/results/load.md"
