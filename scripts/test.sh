#!/usr/bin/env bash
# Runs every test of every module. Starts the MongoDB wire-protocol server of
# tools/mongotest on loopback unless MONGODB_URI points at a real MongoDB.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -z "${MONGODB_URI:-}" ] && [ -x scripts/mongotest.sh ]; then
  if uri=$(scripts/mongotest.sh start); then
    export MONGODB_URI="$uri"
    trap 'scripts/mongotest.sh stop' EXIT
    echo "test: MongoDB wire-protocol server at $MONGODB_URI"
  elif [ "${CI:-}" = "true" ]; then
    echo "test: could not start tools/mongotest and CI=true: failing" >&2
    exit 1
  else
    echo "test: no MongoDB server; Mongo tests will skip" >&2
  fi
fi

# The browser tests drive Debian's chromium; install it when missing and we
# are root (CI is). Without it they skip locally and fail with CI=true.
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1 \
  && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test: installing chromium for the browser tests"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    || echo "test: could not install chromium" >&2
fi

echo "test: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "test: go vet"
go vet ./...

# staticcheck is pinned and run through the module proxy, so it never enters
# the library's go.mod and a fresh clone needs nothing installed by hand.
echo "test: staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "test: go test -race (library)"
go test -race -count=1 ./...

for mod in tools/mongotest bench; do
  if [ -f "$mod/go.mod" ]; then
    echo "test: go test -race ($mod)"
    (cd "$mod" && go vet ./... && go test -race -count=1 ./...)
  fi
done
