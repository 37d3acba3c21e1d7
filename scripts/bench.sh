#!/usr/bin/env bash
# Runs the benchmarks of the bench module and writes docs/performance.md
# (benchstat table, ratio and target tables, chart). Not part of make test.
#
#   BENCH_COUNT=6        runs of each benchmark (benchstat needs >= 6 for
#                        confidence intervals), taken in turn: run 1 of
#                        every row, then run 2, ...
#   BENCHTIME=20000x     requests per run of the server rows; a fixed count,
#                        so that every implementation's store holds the same
#                        number of tokens when the run ends
#   JWT_BENCHTIME=1s     per run of the signing/verifying rows
#   MONGO_BENCHTIME=1000x requests per run of the MongoDB row
#   FEATURE_BENCHTIME=4000x requests per run of the OpenID Connect, client
#                        assertion, token exchange, DPoP and PAR rows (an
#                        RS256 ID token costs a millisecond)
#   MONGODB_URI          MongoDB server of the MongoDB row; unset, the script
#                        starts tools/mongotest (embedded FerretDB) on loopback
#                        and stops it at the end, as scripts/test.sh does
#   BENCH=regexp         only the matching benchmarks (default all)
#   REPORT_ONLY=1        do not run; rebuild the page from bench/results
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/bench"

count=${BENCH_COUNT:-6}
benchtime=${BENCHTIME:-20000x}
jwttime=${JWT_BENCHTIME:-1s}
mongotime=${MONGO_BENCHTIME:-1000x}
featuretime=${FEATURE_BENCHTIME:-4000x}
filter=${BENCH:-.}
benchstat_version=v0.0.0-20260908200009-22c9c6c9d4da # golang.org/x/perf, pinned

mkdir -p results "$root/docs"
raw=results/latest.txt
if [ -z "${REPORT_ONLY:-}" ]; then
  if [ -z "${MONGODB_URI:-}" ] && [ -x "$root/scripts/mongotest.sh" ]; then
    if uri=$("$root/scripts/mongotest.sh" start); then
      export MONGODB_URI="$uri"
      trap '"$root/scripts/mongotest.sh" stop' EXIT
      echo "bench: MongoDB wire-protocol server at $MONGODB_URI"
    else
      echo "bench: could not start tools/mongotest; the MongoDB row will skip" >&2
    fi
  fi
  : >"$raw"
  # One test binary, run count times over every group, so that the runs
  # of the implementations and rows alternate: run one after the other
  # with -count, every run of one row would fall in one stretch of the
  # machine's drift, which often reaches 10 % within a minute on a
  # shared virtual machine, and ratios between rows would carry it.
  bin=$(mktemp -d)/bench.test
  go test -c -o "$bin" .
  header=1 # the goos, goarch, pkg and cpu lines, once, for benchstat
  run() { # pattern, benchtime
    "$bin" -test.run '^$' -test.bench "$1" -test.benchmem -test.count 1 -test.benchtime "$2" |
      if [ "$header" = 1 ]; then grep -v '^PASS$'; else grep -v '^\(goos\|goarch\|pkg\|cpu\):\|^PASS$'; fi |
      tee -a "$raw"
    header=0
  }
  for i in $(seq "$count"); do
    echo "bench: run $i of $count: server rows (-benchtime $benchtime)"
    run "^Benchmark(Token|Bearer|Ceiling|Introspect)\$/$filter" "$benchtime"
    echo "bench: run $i of $count: JWT rows (-benchtime $jwttime)"
    run "^BenchmarkJWT(Sign|Verify)\$/$filter" "$jwttime"
    echo "bench: run $i of $count: feature rows (-benchtime $featuretime)"
    run "^Benchmark(IDToken|IDTokenInterleaved|UserInfo|ClientAssertion|ClientAssertionInterleaved|TokenExchange|DPoPProof|DPoPRequest|PAR)\$/$filter" "$featuretime"
    echo "bench: run $i of $count: MongoDB rows (-benchtime $mongotime)"
    run "^BenchmarkMongoToken\$/$filter" "$mongotime"
  done
  rm -rf "$(dirname "$bin")"
fi

go run "golang.org/x/perf/cmd/benchstat@$benchstat_version" -col /impl "$raw" >results/benchstat.txt
go run ./cmd/chart -in "$raw" -svg "$root/docs/performance.svg" -md results/ratios.md

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
[ -n "$cpu" ] || cpu=$(uname -m)
cores=$(nproc)
gover=$(go version | cut -d' ' -f3-)
date=$(date -u +%Y-%m-%d)
load=results/load.md

{
  cat <<HEAD
# Performance

oauth2server beside [go-oauth2/oauth2](https://github.com/go-oauth2/oauth2) (v4) and
[ory/fosite](https://github.com/ory/fosite), measured in one process by the \`bench/\` module
(\`make bench\` regenerates this page).

| | |
|---|---|
| machine | $cpu, $cores logical CPUs |
| Go | $gover |
| date | $date |
| runs | \`-count $count\`, server rows \`-benchtime $benchtime\`, JWT rows \`-benchtime $jwttime\`, feature rows \`-benchtime $featuretime\`, MongoDB row \`-benchtime $mongotime\` |

![time per request](performance.svg)

## What is measured

Every implementation is mounted on the same Echo router and called through \`ServeHTTP\` with an
\`httptest.ResponseRecorder\` (no network). One request per iteration; the harness (request copy,
recorder) costs the same for all and is included in every row, the ceilings too.

- **token rows**: \`POST /token\` with \`client_secret_basic\`, opaque tokens of 32 random bytes,
  memory storage. *client_credentials* with \`scope=read\`; *authorization_code + PKCE* (S256)
  redeeming a code created before the timer starts, with redirect URI, issuing access and refresh
  token; *refresh_token (rotation)* presenting the refresh token returned by the previous request.
- **bearer validation**: \`GET /api/me\` with \`Authorization: Bearer\`; the token is validated before
  a handler writes a small JSON document. go-oauth2: \`ValidationBearerToken\`; fosite:
  \`IntrospectToken\` with the required scope; oauth2server: the \`middleware\` package's
  \`Authenticate\` (\`AuthenticateWithConfig\` with \`Scope: read\`, so that it checks what fosite's
  row checks: existence, expiry, revocation and scope; go-oauth2 has no scope check and skips it).
- **introspection**: \`POST /introspect\` (RFC 7662) of a live access token, the caller
  authenticated with \`client_secret_basic\`: oauth2server's \`handlers.Introspect\` and fosite's
  introspection endpoint (go-oauth2 has none).
- **ceilings**: Echo handlers that do no OAuth work: one writes a fixed token response with
  \`Cache-Control: no-store\` through \`c.JSON\` (ceiling of the token rows), one the protected
  document (ceiling of the bearer row).
- **JWT rows**: oauth2server with \`AccessTokenFormat: AccessTokenJWT\` and a PEM signing key
  (RS256 with RSA 2048, ES256, EdDSA). *sign*: a whole client_credentials request through the
  token endpoint (client authentication, jti, signing, \`SaveToken\`, JSON response) beside
  golang-jwt's \`NewWithClaims(...).SignedString\` of the same RFC 9068 claims alone; *verify*: a
  whole \`GET /api/me\` through Echo and \`Authenticate\` (signature, typ, kid, iss, aud, exp,
  iat, the jti deny-list, scope) beside golang-jwt's \`Parser.Parse\` with the same claim checks
  alone. The raw rows include no HTTP work at all, so the ratios are upper bounds of the overhead.
- **feature rows** (no peer offers all of them, so they stand beside the raw cryptography they
  cannot avoid): *ID token*: the code exchange of an \`openid\` code minus the same exchange of a
  code without \`openid\` (same server, same stored session), beside golang-jwt signing an input as
  long as the ID token's, for RS256 and EdDSA, and the same three timed in turn, request by
  request, in one loop (*interleaved*, which the target is judged by); *UserInfo* beside the bearer row on the same
  OpenID Provider; *private_key_jwt*: a client_credentials request authenticated by an assertion
  minus the same with \`client_secret_basic\`, beside golang-jwt verifying the assertion with the
  same checks, and the three interleaved likewise; *token exchange*; *DPoP proof*: \`Server.ValidateDPoPProof\` beside golang-jwt's
  parse and verify of the same proof with the key known in advance; whole token and resource
  requests with DPoP beside Bearer; a *pushed authorization request*.
- **MongoDB row**: the client_credentials token endpoint on \`mongomodel\` against
  \`tools/mongotest\` (embedded FerretDB on SQLite, loopback), started by \`make bench\` unless
  \`MONGODB_URI\` is set. \`roundtrips/op\` counts the commands the driver sends per request
  (\`event.CommandMonitor\`). Absolute times are those of FerretDB/SQLite, not of a MongoDB server.

Fair configuration: all three hash the client secret with SHA-256 and compare in constant time
(fosite's default is bcrypt cost 12 and go-oauth2's a plain \`!=\`; bcrypt would dominate every
row); go-oauth2 issues 32-byte random tokens like the others instead of its UUID-based default;
fosite is \`compose.ComposeAllEnabled\` with its \`MemoryStore\` and HMAC-SHA tokens (32 bytes of
entropy) and issues refresh tokens on every code exchange, like the others. Lifetimes are equal
(1 h access, 14 days refresh, 10 min codes).

Not the same work: go-oauth2's refresh grant does not authenticate the client (it only checks the
token) and a replayed code does not revoke the tokens issued from it; oauth2server and fosite do
both (RFC 6749 §4.1.2, §6, RFC 9700 §4.14). Those checks are in oauth2server's numbers.

\`cpu-sec/op\` is the process CPU time per request (all threads, garbage collector included),
which does not grow when the machine is busy with other work; \`sec/op\` is wall time.

## Ratios and targets

Medians of the runs. Ratios are oauth2server / other: below 1 is better for oauth2server.

HEAD
  cat results/ratios.md
  if [ -f results/notes.md ]; then
    echo
    cat results/notes.md
  fi
  echo
  echo "## benchstat"
  echo
  echo "Columns are implementations; the percentages compare each with oauth2server."
  echo
  echo '```'
  cat results/benchstat.txt
  echo '```'
  echo
  echo "## Load test"
  echo
  if [ -f "$load" ]; then
    cat "$load"
  else
    echo "Not run yet: \`bench/load.sh\` runs \`wrk\` (10 s, 64 connections, 127.0.0.1) against"
    echo "\`go run ./example\` for the client_credentials token request and \`GET /api/me\` and writes"
    echo "\`bench/results/load.md\`, which this page includes."
  fi
  if [ -f results/scale.md ]; then
    echo
    cat results/scale.md
  fi
  echo
  echo "Raw output: \`bench/results/latest.txt\`."
} >"$root/docs/performance.md"
echo "bench: wrote docs/performance.md and docs/performance.svg"
