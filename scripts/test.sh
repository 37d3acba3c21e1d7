#!/usr/bin/env bash
# Runs every test of every module. Starts the MongoDB wire-protocol server of
# tools/mongotest on loopback unless MONGODB_URI points at a real MongoDB.
#
# go test runs with -v into .cache/test/*.log; the console shows what go test
# shows without -v (the ok lines, and everything a failing test printed), and
# the run ends with a summary: tests passed, failed and skipped per package,
# why tests skipped, the fuzz seed corpora, and whether MongoDB and Chromium
# were there. The summary is printed however the run ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cache="$root/.cache"
results="$cache/test"
records="$results/records"
rm -rf "$results"
mkdir -p "$results"
: >"$records"
module=$(awk '$1 == "module" { print $2; exit }' go.mod)

checks=()      # "gofmt ok", "go vet FAILED", ... in the order they ran
failures=()    # the steps that failed
mongo="none; Mongo tests skip"
mongo_started=""
started_at=$SECONDS

step_ok() { checks+=("$1 ok"); }
step_failed() {
  checks+=("$1 FAILED")
  failures+=("$1")
}

summary() {
  local status=$1 elapsed=$((SECONDS - started_at))
  echo
  echo "test: summary"
  if [ ${#checks[@]} -gt 0 ]; then
    # One step per item, wrapped between items.
    local out="  ran:" item
    for item in "${checks[@]}"; do
      if [ $((${#out} + ${#item} + 2)) -gt 100 ]; then
        echo "$out,"
        out="       $item"
      elif [ "$out" = "  ran:" ]; then
        out="$out $item"
      else
        out="$out, $item"
      fi
    done
    echo "$out"
  fi
  if [ -s "$records" ]; then
    awk -v module="$module" -f scripts/gotest-summary.awk "$records"
  fi
  echo "  MongoDB: $mongo"
  local chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  if command -v "$chromium" >/dev/null 2>&1; then
    echo "  Chromium: $chromium"
  else
    echo "  Chromium: not found at $chromium (browser tests skip, or fail with CI=true)"
  fi
  if compgen -G "$results/*.log" >/dev/null; then
    echo "  full go test -v output: .cache/test/"
  fi
  if [ "$status" -eq 0 ]; then
    printf '  result: ok in %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
  elif [ ${#failures[@]} -gt 0 ]; then
    local joined
    joined=$(printf '%s, ' "${failures[@]}")
    printf '  result: FAILED (%s) in %dm%02ds\n' "${joined%, }" $((elapsed / 60)) $((elapsed % 60))
  else
    printf '  result: FAILED (exit status %d) in %dm%02ds\n' "$status" $((elapsed / 60)) $((elapsed % 60))
  fi
}

finish() {
  local status=$?
  if [ "$status" -eq 0 ] && [ ${#failures[@]} -gt 0 ]; then
    status=1
  fi
  summary "$status"
  if [ -n "$mongo_started" ]; then
    scripts/mongotest.sh stop
  fi
  exit "$status"
}
trap finish EXIT

if [ -n "${MONGODB_URI:-}" ]; then
  # Not printed: a URI of yours may carry credentials.
  mongo="MONGODB_URI from the environment"
elif [ -x scripts/mongotest.sh ]; then
  if uri=$(scripts/mongotest.sh start); then
    export MONGODB_URI="$uri"
    mongo_started=1
    mongo="tools/mongotest (FerretDB) at $uri"
    echo "test: MongoDB wire-protocol server at $MONGODB_URI"
  elif [ "${CI:-}" = "true" ]; then
    echo "test: could not start tools/mongotest and CI=true: failing" >&2
    mongo="tools/mongotest did not start"
    exit 1
  else
    echo "test: no MongoDB server; Mongo tests will skip" >&2
    mongo="none (tools/mongotest did not start); Mongo tests skip"
  fi
fi

# The browser tests drive Debian's chromium, and the walkthrough test runs
# docs/walkthrough.md's commands (curl, jq, openssl); install what is
# missing when we are root (CI is). Without them those tests skip locally
# and fail with CI=true. apt's output goes to a log, shown only when the
# install fails.
missing=()
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
for tool in curl jq openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt_log="$cache/apt-chromium.log"
  echo "test: installing ${missing[*]} for the browser and walkthrough tests (log: .cache/apt-chromium.log)"
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } >"$apt_log" 2>&1; then
    echo "test: could not install chromium; the end of apt's output:" >&2
    tail -n 40 "$apt_log" >&2
  fi
fi

echo "test: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  step_failed gofmt
  exit 1
fi
step_ok gofmt

echo "test: go vet"
if ! go vet ./...; then
  step_failed "go vet"
  exit 1
fi
step_ok "go vet"

# staticcheck is pinned and run through the module proxy, so it never enters
# the library's go.mod and a fresh clone needs nothing installed by hand.
echo "test: staticcheck"
if ! go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...; then
  step_failed staticcheck
  exit 1
fi
step_ok staticcheck

# gotest NAME DIR: go test -race -v on every package of the module in DIR,
# its full output in .cache/test/NAME.log, the console showing what go test
# shows without -v. A failure is recorded and the next module still runs,
# so that the summary covers all of them.
gotest() {
  local name=$1 dir=$2
  local log="$results/${name//\//-}.log"
  echo "test: go test -race ($name)"
  local status=0
  (cd "$dir" && go test -race -count=1 -v ./... 2>&1) | tee "$log" \
    | awk -v records="$records" -f scripts/gotest-filter.awk || status=$?
  if [ "$status" -eq 0 ]; then
    step_ok "go test ($name)"
  else
    step_failed "go test ($name)"
  fi
}

gotest library .

# interop builds ./example and runs it as a subprocess for relying parties
# of other libraries (go-oidc, zitadel/oidc) and Chromium.
for mod in tools/mongotest bench interop; do
  if [ -f "$mod/go.mod" ]; then
    echo "test: go vet and staticcheck ($mod)"
    if (cd "$mod" && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...); then
      step_ok "go vet and staticcheck ($mod)"
      gotest "$mod" "$mod"
    else
      step_failed "go vet and staticcheck ($mod)"
    fi
  fi
done
