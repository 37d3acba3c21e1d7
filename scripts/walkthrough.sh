#!/usr/bin/env bash
# Runs the commands of docs/walkthrough.md, in the same order, against a
# running example server, and fails at the first unexpected answer:
#
#   go run ./example                      # in another terminal
#   scripts/walkthrough.sh [BASE_URL]     # default http://127.0.0.1:9096
#
# Needs curl, openssl and jq. Every command below is the walkthrough's,
# verbatim; "expect CODE" in front of one runs it and checks that the first
# word it prints is the HTTP status CODE, and the lines without a command of
# the walkthrough check what it returned. The example keeps its state in
# memory, so a freshly started one is the reference; the script can be run
# against it any number of times.
set -euo pipefail

fail() {
  echo "walkthrough: FAIL: $*" >&2
  exit 1
}

# expect CODE COMMAND...: runs COMMAND, prints what it prints and keeps it
# in LAST, and fails unless its first word is CODE.
expect() {
  local want=$1
  shift
  LAST=$("$@") || fail "command failed: $*"
  printf '%s\n' "$LAST"
  [ "${LAST%% *}" = "$want" ] || fail "expected HTTP $want, got: $LAST"
}

# has TEXT PATTERN: fails unless TEXT contains PATTERN (a fixed string).
has() {
  case $1 in
  *"$2"*) ;;
  *) fail "expected \"$2\" in: $1" ;;
  esac
}

step() { printf '\n== %s\n' "$*"; }

command -v jq >/dev/null || fail "jq is needed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "0. Where the server is, and a directory for the cookie jar and the answers"
AS=${1:-http://127.0.0.1:9096}
cd "$work"
expect 200 curl -s -o /dev/null -w '%{http_code}\n' "$AS/.well-known/oauth-authorization-server"

step "1. PKCE verifier and challenge (S256), and a state"
printf %s dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '='; echo
[ "$(printf %s dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')" = E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM ] ||
  fail "the S256 one-liner does not reproduce RFC 7636 Appendix B"
VERIFIER=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
STATE=$(openssl rand -hex 16)
QUERY="response_type=code&client_id=demo-app&redirect_uri=$AS/callback&scope=read%20write&state=$STATE&code_challenge=$CHALLENGE&code_challenge_method=S256"
[ ${#VERIFIER} -eq 43 ] && [ ${#CHALLENGE} -eq 43 ] || fail "verifier or challenge is not 43 characters"

step "2. The authorization request sends a visitor without session to the login page"
expect 302 curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -b cookies.txt -c cookies.txt "$AS/oauth/authorize?$QUERY"
has "$LAST" "$AS/login?return_to=%2Foauth%2Fauthorize%3Fresponse_type%3Dcode"

step "3. The login form: csrf_token, bound to the signed oauth2server_login cookie"
expect 200 curl -s -o login.html -w '%{http_code}\n' -b cookies.txt -c cookies.txt "$AS/login"
LOGIN_CSRF=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' login.html)
grep oauth2server_login cookies.txt
[ -n "$LOGIN_CSRF" ] || fail "no csrf_token in the login form"

step "4. The form's token without its cookie is refused"
expect 403 curl -s -o /dev/null -w '%{http_code}\n' "$AS/login" \
  --data-urlencode "csrf_token=$LOGIN_CSRF" -d username=demo -d password=demo-password

step "5. Log in; return_to brings the browser back to the authorization request"
expect 303 curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -b cookies.txt -c cookies.txt "$AS/login" \
  --data-urlencode "csrf_token=$LOGIN_CSRF" --data-urlencode "return_to=/oauth/authorize?$QUERY" \
  -d username=demo -d password=demo-password
has "$LAST" "$AS/oauth/authorize?$QUERY"
grep oauth2server_session cookies.txt
grep -q oauth2server_session cookies.txt || fail "no session cookie after login"

step "6. The consent page: the library's csrf_token, bound to this session"
expect 200 curl -s -o consent.html -w '%{http_code}\n' -b cookies.txt -c cookies.txt "$AS/oauth/authorize?$QUERY"
CONSENT_CSRF=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' consent.html)
grep -A1 '<form' consent.html
[ -n "$CONSENT_CSRF" ] || fail "no csrf_token in the consent form"

step "7. Approve: the redirect to the client carries code, iss and state"
CALLBACK=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b cookies.txt -c cookies.txt "$AS/oauth/authorize?$QUERY" \
  --data-urlencode "csrf_token=$CONSENT_CSRF" -d decision=approve)
echo "$CALLBACK"
CODE=$(printf %s "$CALLBACK" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
case $CALLBACK in "303 $AS/callback?"*"state=$STATE"*) ;; *) fail "expected 303 to the callback with our state, got: $CALLBACK" ;; esac
[ -n "$CODE" ] || fail "no code in the redirect"

step "8. The consent form is spent: posting it again is refused"
expect 403 curl -s -o /dev/null -w '%{http_code}\n' -b cookies.txt -c cookies.txt "$AS/oauth/authorize?$QUERY" \
  --data-urlencode "csrf_token=$CONSENT_CSRF" -d decision=approve

step "9. Redeem the code with the verifier"
expect 200 curl -s -o token.json -w '%{http_code}\n' "$AS/oauth/token" \
  -d grant_type=authorization_code -d client_id=demo-app --data-urlencode "redirect_uri=$AS/callback" \
  --data-urlencode "code=$CODE" --data-urlencode "code_verifier=$VERIFIER"
jq . token.json
ACCESS=$(jq -r .access_token token.json)
REFRESH=$(jq -r .refresh_token token.json)
[ "$(jq -r .token_type,.scope token.json | tr '\n' ' ')" = "Bearer read write " ] || fail "unexpected token response"
[ "$REFRESH" != null ] || fail "no refresh token"

step "10. Call the API, and introspect the token as a resource server"
expect 200 curl -s -o me.json -w '%{http_code}\n' -H "Authorization: Bearer $ACCESS" "$AS/api/me"
jq -c . me.json
expect 200 curl -s -o introspect.json -w '%{http_code}\n' -u demo-service:demo-service-secret \
  --data-urlencode "token=$ACCESS" "$AS/oauth/introspect"
jq -c . introspect.json
[ "$(jq -r .sub me.json)" = demo ] || fail "the API does not see the user demo"
[ "$(jq -r .active,.sub introspect.json | tr '\n' ' ')" = "true demo " ] || fail "introspection does not see an active token of demo"

step "11. Refresh: a public client gets a new refresh token every time"
expect 200 curl -s -o refresh.json -w '%{http_code}\n' "$AS/oauth/token" \
  -d grant_type=refresh_token -d client_id=demo-app --data-urlencode "refresh_token=$REFRESH"
jq . refresh.json
ACCESS2=$(jq -r .access_token refresh.json)
REFRESH2=$(jq -r .refresh_token refresh.json)
[ "$REFRESH2" != null ] && [ "$REFRESH2" != "$REFRESH" ] || fail "the refresh token was not rotated"

step "12. Revoke the new refresh token: the whole family goes"
expect 200 curl -s -o /dev/null -w '%{http_code}\n' "$AS/oauth/revoke" \
  -d client_id=demo-app --data-urlencode "token=$REFRESH2"

step "13. Nothing of the family works any more"
expect 400 curl -s -o refresh2.json -w '%{http_code}\n' "$AS/oauth/token" \
  -d grant_type=refresh_token -d client_id=demo-app --data-urlencode "refresh_token=$REFRESH2"
jq -c . refresh2.json
expect 401 curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ACCESS2" "$AS/api/me"
expect 200 curl -s -o introspect2.json -w '%{http_code}\n' -u demo-service:demo-service-secret \
  --data-urlencode "token=$ACCESS2" "$AS/oauth/introspect"
jq -c . introspect2.json
[ "$(jq -r .error refresh2.json)" = invalid_grant ] || fail "expected invalid_grant"
[ "$(jq -c . introspect2.json)" = '{"active":false}' ] || fail "expected an inactive token"

printf '\nwalkthrough: OK\n'
