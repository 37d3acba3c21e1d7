// Package modeltest is the conformance suite of [oauth2server.Model]
// implementations, in the manner of testing/fstest.TestFS: call [Run] from a
// test of your model and it checks every storage capability the model
// implements, skipping the ones it does not. It logs what ran and what was
// skipped and why (go test -v shows it); pass [FailOnSkip] to make a skip a
// failure.
//
//	func TestConformance(t *testing.T) {
//		modeltest.Run(t, func(t *testing.T) modeltest.Setup {
//			m := mystore.New(...)          // a fresh, empty store
//			t.Cleanup(func() { m.Drop() }) // whatever frees it
//			return modeltest.Setup{Model: m, AddClient: m.AddClient, AddUser: m.AddUser}
//		})
//	}
//
// What the suite holds a model to, beyond the interface docs:
//
//   - "Not found" is (nil, nil); a cancelled context is an error and never a
//     result.
//   - Expired items are returned as stored: the Server checks expiry.
//     Consents are the exception: an expired consent is absent, since
//     pages read consents from the model directly.
//   - Values are copied in and out: changing a value after saving it, or a
//     value a getter returned (its slices and Extra included), never
//     changes what is stored. A database gets this for free; an in-memory
//     model must clone.
//   - Times may lose precision below a millisecond (BSON and most SQL
//     databases store milliseconds or microseconds).
//   - Nil and empty slices are the same; Extra values compare as JSON, the
//     form in which they reach clients.
//   - A model that stores only digests of token strings cannot return the
//     string it was not asked for: GetAccessToken may return a Token whose
//     RefreshToken is empty, and GetRefreshToken one whose AccessToken is
//     empty. The string that was looked up must be set, and RevokeToken
//     must find the record by whichever string is set.
//
// Each capability is one function in its own file, listed in [Run]; a new
// capability adds a file and a line there.
package modeltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// Setup is what the factory passed to [Run] returns: a fresh, empty model
// and the functions that seed it. The Model interfaces have no way to add
// clients or users, so each model supplies its own.
type Setup struct {
	// Model is the model under test. Required.
	Model oauth2server.Model
	// AddClient stores a client. Required.
	AddClient func(ctx context.Context, c *oauth2server.Client) error
	// AddUser stores a user with a password hash made by
	// [oauth2server.HashPassword] or [oauth2server.HashSecret]. Optional:
	// without it the [oauth2server.PasswordModel] and
	// [oauth2server.ClientUserModel] cases are skipped.
	AddUser func(ctx context.Context, u *oauth2server.User, passwordHash string) error
	// SetClientUser makes the user with the given username the one on whose
	// behalf the client acts in the client_credentials grant. Optional:
	// without it the [oauth2server.ClientUserModel] cases are skipped.
	SetClientUser func(ctx context.Context, clientID, username string) error
	// SetUserClaims sets the OpenID Connect claims of the user with the
	// given ID. Optional: without it the [oauth2server.UserClaimsModel]
	// cases are skipped.
	SetUserClaims func(ctx context.Context, userID string, claims map[string]any) error
	// SetClientSecret stores the usable secret of a client_secret_jwt
	// client. Optional: without it the [oauth2server.ClientSecretModel]
	// cases are skipped.
	SetClientSecret func(ctx context.Context, clientID string, secret []byte) error
	// AddTrustedIssuer registers a trusted issuer, and MapIssuerSubject
	// makes the user with the given username the one a subject of that
	// issuer stands for. Optional: without them the
	// [oauth2server.TrustedIssuerModel] cases are skipped.
	AddTrustedIssuer func(ctx context.Context, ti *oauth2server.TrustedIssuer) error
	MapIssuerSubject func(ctx context.Context, issuer, subject, username string) error
	// SetExchangePolicy stores a client's [oauth2server.ExchangePolicy].
	// Optional: without it the [oauth2server.TokenExchangeModel] cases are
	// skipped.
	SetExchangePolicy func(ctx context.Context, p *oauth2server.ExchangePolicy) error
	// DeleteExpired deletes the expired items now, as the model's own
	// sweep or a TTL index would later (mongomodel's DeleteExpired,
	// memorymodel's Sweep). Optional: without it the sweep case of
	// [oauth2server.ConsentModel] is skipped.
	DeleteExpired func(ctx context.Context) error

	// report is the run's record of skipped cases, set by Run.
	report *report
}

// Option changes how [Run] behaves.
type Option func(*runConfig)

type runConfig struct {
	failOnSkip bool
}

// FailOnSkip makes every case that would be skipped (a capability the
// model does not implement, a Setup function that is nil) fail instead,
// for a model that means to implement everything.
func FailOnSkip() Option { return func(c *runConfig) { c.failOnSkip = true } }

// report records the skipped cases of one Run, for its summary.
type report struct {
	cfg     runConfig
	mu      sync.Mutex
	cases   map[string]bool     // names of the tests that made a setup
	skipped map[string][]string // reason -> cases
}

// skip skips (or, with FailOnSkip, fails) the case and records why.
func (s Setup) skip(t *testing.T, reason string) {
	t.Helper()
	if s.report == nil {
		t.Skip(reason)
	}
	s.report.mu.Lock()
	s.report.skipped[reason] = append(s.report.skipped[reason], t.Name())
	s.report.mu.Unlock()
	if s.report.cfg.failOnSkip {
		t.Fatalf("modeltest: %s (FailOnSkip)", reason)
	}
	t.Skip(reason)
}

// summary says what ran and what was skipped, and why.
func (r *report) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, cases := range r.skipped {
		n += len(cases)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "modeltest: %d cases ran, %d skipped", r.leaves()-n, n)
	reasons := make([]string, 0, len(r.skipped))
	for reason := range r.skipped {
		reasons = append(reasons, reason)
	}
	sort.Strings(reasons)
	for _, reason := range reasons {
		fmt.Fprintf(&b, "\n  %d skipped: %s", len(r.skipped[reason]), reason)
	}
	return b.String()
}

// leaves counts the cases: the tests that made a setup and have no sub-test
// that made one too (a capability probes with a setup of its own before
// its cases run; a skipped probe stands for the whole capability).
func (r *report) leaves() int {
	n := 0
	for name := range r.cases {
		leaf := true
		for other := range r.cases {
			if strings.HasPrefix(other, name+"/") {
				leaf = false
				break
			}
		}
		if leaf {
			n++
		}
	}
	return n
}

// capabilityTest is the suite of one storage capability.
type capabilityTest struct {
	name string
	run  func(t *testing.T, newSetup func(t *testing.T) Setup)
}

// capabilities lists the suites in the order they run.
func capabilities() []capabilityTest {
	return []capabilityTest{
		{"Clients", testClients},
		{"Tokens", testTokens},
		{"AccessTokenModel", testAccessTokens},
		{"RefreshTokenModel", testRefreshTokens},
		{"AuthorizationCodeModel", testAuthorizationCodes},
		{"CodeRedemptionModel", testCodeRedemption},
		{"PasswordModel", testUsers},
		{"ClientUserModel", testClientUsers},
		{"RevokedJTIModel", testRevokedJTIs},
		{"DeviceCodeModel", testDeviceCodes},
		{"ConsentModel", testConsents},
		{"CounterModel", testCounters},
		{"Server", testServer},
		{"UserClaimsModel", testUserClaims},
		{"ConsentListModel", testConsentLists},
		{"ConsentLookupModel", testConsentLookups},
		{"GrantListModel", testGrantLists},
		{"GrantManagement", testGrantManagement},
		{"ClientSecretModel", testClientSecrets},
		{"TrustedIssuerModel", testTrustedIssuers},
		{"TokenExchangeModel", testTokenExchange},
		{"PushedAuthorizationRequestModel", testPushedRequests},
	}
}

// Run checks the model made by newSetup against the contract of every
// storage capability it implements. newSetup is called once per case and
// must return an empty model; register its cleanup with t.Cleanup.
//
// At the end it logs a summary (shown with go test -v, or when the test
// fails): how many cases ran, and how many were skipped for which reason,
// e.g. "model does not implement AuthorizationCodeModel". With
// [FailOnSkip] a case that would be skipped fails instead.
func Run(t *testing.T, newSetup func(t *testing.T) Setup, opts ...Option) {
	t.Helper()
	r := &report{cases: map[string]bool{}, skipped: map[string][]string{}}
	for _, o := range opts {
		o(&r.cfg)
	}
	for _, c := range capabilities() {
		t.Run(c.name, func(t *testing.T) { c.run(t, checked(newSetup, r)) })
	}
	t.Log(r.summary())
}

// checked wraps newSetup with the checks every case relies on, and records
// the case for the summary.
func checked(newSetup func(t *testing.T) Setup, r *report) func(t *testing.T) Setup {
	return func(t *testing.T) Setup {
		t.Helper()
		r.mu.Lock()
		r.cases[t.Name()] = true
		r.mu.Unlock()
		s := newSetup(t)
		require.NotNil(t, s.Model, "Setup.Model is required")
		require.NotNil(t, s.AddClient, "Setup.AddClient is required")
		s.report = r
		return s
	}
}

// need returns the capability T of the setup's model or skips the test.
func need[T any](t *testing.T, s Setup, name string) T {
	t.Helper()
	c, ok := oauth2server.Capability[T](s.Model)
	if !ok {
		s.skip(t, "model does not implement "+name)
	}
	return c
}

// family returns the GrantModel of the setup's model or skips the test.
func family(t *testing.T, s Setup) oauth2server.GrantModel {
	t.Helper()
	return need[oauth2server.GrantModel](t, s, "GrantModel")
}

// probe makes a fresh setup only to learn whether the model implements T,
// so that a whole capability is reported as skipped once.
func probe[T any](t *testing.T, newSetup func(t *testing.T) Setup, name string) {
	t.Helper()
	need[T](t, newSetup(t), name)
}

// random returns a fresh random string, unique per call.
func random(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// now is the time the fixtures are built around. It keeps nanoseconds so
// that the suite sees how a model handles precision.
func now() time.Time { return time.Now().UTC() }

// assertTime checks that got is want at millisecond precision, and that a
// zero time stays zero.
func assertTime(t *testing.T, want, got time.Time, field string) {
	t.Helper()
	if want.IsZero() {
		assert.True(t, got.IsZero(), "%s: want zero time, got %s", field, got)
		return
	}
	assert.WithinDuration(t, want, got, time.Millisecond, field)
}

// assertStrings checks slices for equality, treating nil as empty.
func assertStrings(t *testing.T, want, got []string, field string) {
	t.Helper()
	if len(want) == 0 {
		assert.Empty(t, got, field)
		return
	}
	assert.Equal(t, want, got, field)
}

// assertExtra checks that Extra survived as JSON, the form in which it
// reaches clients.
func assertExtra(t *testing.T, want, got map[string]any, field string) {
	t.Helper()
	if len(want) == 0 {
		assert.Empty(t, got, field)
		return
	}
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err, field)
	assert.JSONEq(t, string(w), string(g), field)
}

// extra is an Extra map with the kinds of values models must keep.
func extra() map[string]any {
	return map[string]any{
		"tenant": "acme",
		"level":  3,
		"ratio":  0.5,
		"admin":  true,
		"tags":   []any{"a", "b"},
		"nested": map[string]any{"k": "v"},
	}
}
