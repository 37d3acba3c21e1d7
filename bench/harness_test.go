package bench

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The fixture every implementation is configured with, so that each does
// the same work: one confidential client authenticating with
// client_secret_basic, a 256-bit secret, tokens of 32 random bytes.
const (
	clientID     = "bench-client"
	clientSecret = "hP3xq0m2Vb8sK1Lr6TzYw4Nd9Gf5Jc7AeQuRtIoPlMk" // 256-bit style random secret
	redirectURI  = "https://client.example.com/callback"
	userID       = "user-1"
	scope        = "read"

	// PKCE test vector of RFC 7636 Appendix B.
	pkceVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	pkceChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

	accessLifetime  = time.Hour
	refreshLifetime = 14 * 24 * time.Hour
	codeLifetime    = 10 * time.Minute
)

// basicAuth is the Authorization header of the client (RFC 6749 §2.3.1).
var basicAuth = "Basic " + base64.StdEncoding.EncodeToString(
	[]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(clientSecret)))

// sha256Hash is how every implementation stores the client secret: a fast
// hash is right for a high-entropy generated secret (oauth2server's
// HashSecret does the same), and it keeps bcrypt's cost out of the
// comparison.
func sha256Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// sha256Equal compares secret with a sha256Hash in constant time.
func sha256Equal(hash []byte, secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(sum[:], hash) == 1
}

// randomToken returns 32 random bytes, base64url: the shape of every
// token and code in these benchmarks.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ccForm is the body of a client_credentials request.
const ccForm = "grant_type=client_credentials&scope=" + scope

// codeForm is the body of an authorization_code request for code.
func codeForm(code string) string {
	return "grant_type=authorization_code&code=" + url.QueryEscape(code) +
		"&redirect_uri=" + url.QueryEscape(redirectURI) + "&code_verifier=" + pkceVerifier
}

// refreshForm is the body of a refresh_token request.
func refreshForm(rt string) string {
	return "grant_type=refresh_token&refresh_token=" + url.QueryEscape(rt)
}

// requestTemplate builds a request once; newRequest copies it cheaply for
// each iteration so that the harness costs the same few allocations for
// every implementation.
func requestTemplate(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", basicAuth)
	}
	return r
}

// newRequest returns a shallow copy of tmpl with body. The header map is
// shared: no implementation writes to request headers.
func newRequest(tmpl *http.Request, body string) *http.Request {
	r := new(http.Request)
	*r = *tmpl
	if body != "" {
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
	} else {
		r.Body = http.NoBody
	}
	return r
}

// serve runs one request and fails the benchmark on a non-200 answer.
func serve(tb testing.TB, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	return rec
}

// serveReused is serve writing the response into body, which the caller
// reuses from one request to the next: a fresh recorder's buffer is
// allocated to the response's size, which a server's pooled
// bufio.Writer is not, so rows that compare responses of different sizes
// (an ID token adds half a kilobyte) would be charged for the harness.
func serveReused(tb testing.TB, h http.Handler, r *http.Request, body *bytes.Buffer) *httptest.ResponseRecorder {
	body.Reset()
	rec := httptest.NewRecorder()
	rec.Body = body
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	return rec
}

// interleave runs b.N rounds of the three ops, each round in a rotated
// order, and returns the wall time each spent in all. A feature's cost is
// a difference of two requests, a few percent of a signature; timed in
// separate runs seconds apart, it drowns in the machine's drift, which
// often reaches 10 %. Timed in turn, the drift falls on all three alike.
func interleave(b *testing.B, ops [3]func(i int)) (spent [3]time.Duration) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for n := range 3 {
			which := (i + n) % 3
			start := time.Now()
			ops[which](i)
			spent[which] += time.Since(start)
		}
	}
	b.StopTimer()
	return spent
}

// reportInterleaved reports interleave's times per request as
// with-ns/op, without-ns/op and raw-ns/op (the chart's names are openid
// and plain for the ID token row), and ratio: (with − without) / raw.
func reportInterleaved(b *testing.B, spent [3]time.Duration, with, without, ratio string) {
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) }
	b.ReportMetric(per(spent[0]), with+"-ns/op")
	b.ReportMetric(per(spent[1]), without+"-ns/op")
	b.ReportMetric(per(spent[2]), "raw-ns/op")
	b.ReportMetric(float64(spent[0]-spent[1])/float64(spent[2]), ratio)
}

// httptestServe runs one request and returns its status.
func httptestServe(h http.Handler, r *http.Request) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

// jsonString extracts the string member name from a flat JSON object; it
// is how the refresh benchmark reads the next refresh token, at the same
// small cost for every implementation.
func jsonString(body []byte, name string) string {
	key := []byte(`"` + name + `":"`)
	i := bytes.Index(body, key)
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// implementation is one server under test, mounted on an Echo router:
// POST /token and GET /api/me (a bearer-protected resource).
type implementation interface {
	handler() http.Handler
	// newCodes creates n authorization codes bound to the PKCE challenge,
	// outside the timer.
	newCodes(tb testing.TB, n int) []string
	// newRefreshToken returns a live refresh token.
	newRefreshToken(tb testing.TB) string
	// newAccessToken returns a live access token for /api/me.
	newAccessToken(tb testing.TB) string
}

// contender names an implementation and builds a fresh instance of it,
// so that every benchmark run starts from empty storage.
type contender struct {
	name string
	new  func(tb testing.TB) implementation
}

// contenders lists the servers under test, ours first.
func contenders() []contender {
	return []contender{
		{"oauth2server", func(tb testing.TB) implementation { return newOurs(tb) }},
		{"go-oauth2", func(tb testing.TB) implementation { return newGoOAuth2(tb) }},
		{"fosite", func(tb testing.TB) implementation { return newFosite(tb) }},
	}
}

// cpuTime is the CPU time the process has used, in every thread (so the
// garbage collector's background work counts too).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op b.N times after the setup done so far, reporting
// allocations and, beside the wall-clock ns/op, cpu-ns/op: the process CPU
// time per operation, which waiting for a busy machine's CPUs does not
// inflate.
func measure(b *testing.B, op func(i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		op(i)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
