#!/usr/bin/env bash
# Flood load test of the example server (bench/load/flood): 1 M cookie-less
# page views, 200k device authorizations and 100k-token scopes, one after
# another, each against a freshly started ./example on a free 127.0.0.1
# port, while a legitimate client runs complete flows. Reports the server's
# RSS above idle and the legitimate p99 against idle, PASS/FAIL, and writes
# bench/results/flood.md (flood-mongo.md with -mongo-uri). Not part of
# make test. All arguments go to the tool (-h lists them):
#
#   bash bench/load/flood.sh                                # full size, memory model
#   bash bench/load/flood.sh -pages 100000 -device 20000 -scope-requests 400
#   bash bench/load/flood.sh -floods device -device-spread 5000
#   uri=$(scripts/mongotest.sh start)
#   bash bench/load/flood.sh -mongo-uri "$uri"; scripts/mongotest.sh stop
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root/bench" && go build -o "$tmp/flood" ./load/flood)
"$tmp/flood" -root "$root" "$@"
