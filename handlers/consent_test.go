package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
)

// consentFixture is a fixture whose authorization endpoint remembers
// consent in the memory model.
func consentFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	f.e.Any("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{
		Server:          f.srv,
		UserFromRequest: userFromHeader,
		Consents:        f.model,
	}))
	require.NoError(t, f.model.AddClient(context.Background(), &oauth2server.Client{ID: "spa", RedirectURIs: []string{"https://spa.example/cb"},
		Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read"}}))
	return f
}

// assertCodeRedirect checks a redirect with a code and the state.
func assertCodeRedirect(t *testing.T, status int, rec interface {
	Result() *http.Response
}, redirect, state string) {
	t.Helper()
	resp := rec.Result()
	require.Equal(t, status, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, redirect, loc.Scheme+"://"+loc.Host+loc.Path)
	assert.NotEmpty(t, loc.Query().Get("code"))
	assert.Equal(t, state, loc.Query().Get("state"))
}

// Remembered consent: a client the user approved for these scopes skips
// the consent page; wider scopes ask again; approvals accumulate.
func TestAuthorizeRememberedConsent(t *testing.T) {
	t.Parallel()
	f := consentFixture(t)
	ctx := context.Background()

	rec := f.approve(codeQuery(), "alice")
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	got, err := f.model.FindConsent(ctx, "conf", "alice")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, []string{"read"}, got.Scope)
	assert.Equal(t, testNow, got.GrantedAt)

	rec = f.do(http.MethodGet, "/authorize?"+codeQuery("state", "again").Encode(), "alice", nil)
	assertCodeRedirect(t, http.StatusFound, rec, confRedirect, "again")
	assertPageHeaders(t, rec)

	// Consent is per user.
	rec = f.do(http.MethodGet, "/authorize?"+codeQuery().Encode(), "bob", nil)
	assert.Equal(t, http.StatusOK, rec.Code)

	// A wider request shows the page; approving it widens the consent.
	wide := codeQuery("scope", "read write")
	rec = f.do(http.MethodGet, "/authorize?"+wide.Encode(), "alice", nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	rec = f.approve(wide, "alice")
	require.Equal(t, http.StatusSeeOther, rec.Code)
	got, err = f.model.FindConsent(ctx, "conf", "alice")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"read", "write"}, got.Scope)

	rec = f.do(http.MethodGet, "/authorize?"+codeQuery("scope", "write").Encode(), "alice", nil)
	assertCodeRedirect(t, http.StatusFound, rec, confRedirect, "xyz")

	// Withdrawn consent shows the page again.
	require.NoError(t, f.model.RevokeConsent(ctx, "conf", "alice"))
	rec = f.do(http.MethodGet, "/authorize?"+codeQuery().Encode(), "alice", nil)
	assert.Equal(t, http.StatusOK, rec.Code)
}

// Only what the user ticked is remembered, and a denial nothing.
func TestAuthorizeRememberedConsentScope(t *testing.T) {
	t.Parallel()
	f := consentFixture(t)
	ctx := context.Background()
	q := codeQuery("scope", "read write")
	action, token := f.consent(q, "alice")
	rec := f.do(http.MethodPost, "/authorize"+action, "alice",
		url.Values{"csrf_token": {token}, "decision": {"approve"}, "scope": {"read"}})
	require.Equal(t, http.StatusSeeOther, rec.Code)
	got, err := f.model.FindConsent(ctx, "conf", "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"read"}, got.Scope)

	action, token = f.consent(q, "carol")
	rec = f.do(http.MethodPost, "/authorize"+action, "carol", url.Values{"csrf_token": {token}, "decision": {"deny"}})
	require.Equal(t, http.StatusSeeOther, rec.Code)
	got, err = f.model.FindConsent(ctx, "conf", "carol")
	require.NoError(t, err)
	assert.Nil(t, got)
}

// repeated requests are approved automatically only when the client
// is assured: confidential, or public with a verbatim https redirect URI.
// A public client on loopback (any local program can listen there) or a
// custom scheme always sees the page.
func TestAuthorizeRememberedConsentNeedsAssuredClient(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name       string
		whenQuery  url.Values
		expectSkip bool
	}{
		{name: "ok, confidential client", whenQuery: codeQuery(), expectSkip: true},
		{name: "ok, public client with https redirect URI",
			whenQuery: codeQuery("client_id", "spa", "redirect_uri", "https://spa.example/cb",
				"code_challenge", testChallenge, "code_challenge_method", "S256"), expectSkip: true},
		{name: "nok, public client on loopback",
			whenQuery: codeQuery("client_id", "pub1", "redirect_uri", pubRedirect,
				"code_challenge", testChallenge, "code_challenge_method", "S256")},
		{name: "nok, public client on loopback with another port",
			whenQuery: codeQuery("client_id", "pub1", "redirect_uri", "http://127.0.0.1:4711/cb",
				"code_challenge", testChallenge, "code_challenge_method", "S256")},
		{name: "nok, public client with a custom scheme",
			whenQuery: codeQuery("client_id", "pub", "redirect_uri", "com.example.app:/cb",
				"code_challenge", testChallenge, "code_challenge_method", "S256")},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := consentFixture(t)
			clientID := tc.whenQuery.Get("client_id")
			require.NoError(t, f.model.SaveConsent(context.Background(), &oauth2server.Consent{
				ClientID: clientID, UserID: "alice", Scope: []string{"read"}}))
			rec := f.do(http.MethodGet, "/authorize?"+tc.whenQuery.Encode(), "alice", nil)
			if tc.expectSkip {
				assertCodeRedirect(t, http.StatusFound, rec, tc.whenQuery.Get("redirect_uri"), "xyz")
				return
			}
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, rec.Header().Get("Location"))
			assert.Contains(t, rec.Body.String(), `value="approve"`)
		})
	}
}

// faultyConsents is a ConsentModel that fails, to test storage faults.
type faultyConsents struct {
	oauth2server.ConsentModel
	failFind, failSave bool
	saves              *atomic.Int32 // counts SaveConsent calls when set
}

func (s faultyConsents) FindConsent(ctx context.Context, clientID, userID string) (*oauth2server.Consent, error) {
	if s.failFind {
		return nil, errStorage
	}
	return s.ConsentModel.FindConsent(ctx, clientID, userID)
}

func (s faultyConsents) SaveConsent(ctx context.Context, c *oauth2server.Consent) error {
	if s.saves != nil {
		s.saves.Add(1)
	}
	if s.failSave {
		return errStorage
	}
	return s.ConsentModel.SaveConsent(ctx, c)
}

func TestAuthorizeRememberedConsentFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	require.NoError(t, f.model.SaveConsent(context.Background(), &oauth2server.Consent{
		ClientID: "conf", UserID: "alice", Scope: []string{"read"}}))

	// A failing lookup is a server error page: never a redirect, never a
	// code issued without consent.
	f.e.Any("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{
		Server:          f.srv,
		UserFromRequest: userFromHeader,
		Consents:        faultyConsents{ConsentModel: f.model, failFind: true},
	}))
	rec := f.do(http.MethodGet, "/authorize?"+codeQuery().Encode(), "alice", nil)
	assertShown(t, rec, http.StatusServiceUnavailable, "server_error")
	assert.NotContains(t, rec.Body.String(), errStorage.Error())

	// A failing save does not undo the approval: the client gets its code.
	var saves atomic.Int32
	f.e.Any("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{
		Server:          f.srv,
		UserFromRequest: userFromHeader,
		Consents:        faultyConsents{ConsentModel: f.model, failSave: true, saves: &saves},
	}))
	rec = f.approve(codeQuery("scope", "read write"), "alice")
	assertCodeRedirect(t, http.StatusSeeOther, rec, confRedirect, "xyz")
	assert.Equal(t, int32(1), saves.Load(), "the save was tried and failed")
	got, err := f.model.FindConsent(context.Background(), "conf", "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"read"}, got.Scope, "the old consent stands")
}

// keptConsents is a ConsentModel that stores consents exactly as given and
// returns them whatever their expiry, as a model written before consents
// could expire does: the endpoint must judge expiry itself.
type keptConsents struct {
	mu    sync.Mutex
	saved map[[2]string]oauth2server.Consent
}

func (k *keptConsents) FindConsent(_ context.Context, clientID, userID string) (*oauth2server.Consent, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.saved[[2]string{clientID, userID}]
	if !ok {
		return nil, nil
	}
	return &c, nil
}

func (k *keptConsents) SaveConsent(_ context.Context, c *oauth2server.Consent) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.saved == nil {
		k.saved = map[[2]string]oauth2server.Consent{}
	}
	k.saved[[2]string{c.ClientID, c.UserID}] = *c
	return nil
}

func (k *keptConsents) RevokeConsent(_ context.Context, clientID, userID string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.saved, [2]string{clientID, userID})
	return nil
}

// A remembered consent lasts ConsentLifetime from its approval; from its
// expiry on, the consent page is shown again, also with a model that
// returns expired consents. Approving again makes a new consent.
func TestAuthorizeConsentLifetime(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name       string
		whenLater  time.Duration
		expectSkip bool
	}{
		{name: "ok, within the lifetime", whenLater: 59 * time.Minute, expectSkip: true},
		{name: "nok, at expiry", whenLater: time.Hour},
		{name: "nok, after expiry", whenLater: 2 * time.Hour},
	}
	for _, tc := range testCases {
		for _, kept := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, model returns expired: %v", tc.name, kept), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
				var consents oauth2server.ConsentModel = f.model
				if kept {
					consents = &keptConsents{}
				}
				f.e.Any("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{
					Server: f.srv, UserFromRequest: userFromHeader, Consents: consents, ConsentLifetime: time.Hour,
				}))
				rec := f.approve(codeQuery(), "alice")
				require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
				first, err := consents.FindConsent(context.Background(), "conf", "alice")
				require.NoError(t, err)
				require.NotNil(t, first)
				assert.NotEmpty(t, first.ID, "the endpoint gives the id")
				assert.Equal(t, testNow.Add(time.Hour), first.ExpiresAt)

				*f.now = testNow.Add(tc.whenLater)
				rec = f.do(http.MethodGet, "/authorize?"+codeQuery().Encode(), "alice", nil)
				if tc.expectSkip {
					assertCodeRedirect(t, http.StatusFound, rec, confRedirect, "xyz")
					return
				}
				assert.Equal(t, http.StatusOK, rec.Code, "the consent page again")
				assert.Contains(t, rec.Body.String(), `value="approve"`)

				rec = f.approve(codeQuery(), "alice")
				require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
				again, err := consents.FindConsent(context.Background(), "conf", "alice")
				require.NoError(t, err)
				require.NotNil(t, again)
				assert.NotEqual(t, first.ID, again.ID, "a lapsed consent is not revived")
				assert.Equal(t, f.now.Add(time.Hour), again.ExpiresAt)
			})
		}
	}
}

// Widening a remembered consent keeps its id and starts its lifetime
// again; without a lifetime it never expires.
func TestAuthorizeWideningKeepsTheConsentID(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name          string
		givenLifetime time.Duration
	}{
		{name: "ok, with a lifetime", givenLifetime: time.Hour},
		{name: "ok, without a lifetime"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
			f.e.Any("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{
				Server: f.srv, UserFromRequest: userFromHeader, Consents: f.model, ConsentLifetime: tc.givenLifetime,
			}))
			ctx := context.Background()
			require.Equal(t, http.StatusSeeOther, f.approve(codeQuery(), "alice").Code)
			first, err := f.model.FindConsent(ctx, "conf", "alice")
			require.NoError(t, err)
			require.NotNil(t, first)

			*f.now = testNow.Add(30 * time.Minute)
			require.Equal(t, http.StatusSeeOther, f.approve(codeQuery("scope", "read write"), "alice").Code)
			wide, err := f.model.FindConsent(ctx, "conf", "alice")
			require.NoError(t, err)
			require.NotNil(t, wide)
			assert.Equal(t, first.ID, wide.ID)
			assert.ElementsMatch(t, []string{"read", "write"}, wide.Scope)
			assert.Equal(t, *f.now, wide.GrantedAt)
			if tc.givenLifetime == 0 {
				assert.True(t, wide.ExpiresAt.IsZero())
			} else {
				assert.Equal(t, f.now.Add(tc.givenLifetime), wide.ExpiresAt)
			}
			byID, err := f.srv.FindConsentByID(ctx, first.ID)
			require.NoError(t, err)
			require.NotNil(t, byID)
			assert.ElementsMatch(t, []string{"read", "write"}, byID.Scope)
		})
	}
}
