package oauth2server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// eventLog collects the events of a Server.
type eventLog struct {
	mu     sync.Mutex
	events []oauth2server.Event // since the last take
	all    []oauth2server.Event
}

func (l *eventLog) record(_ context.Context, e oauth2server.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	l.all = append(l.all, e)
}

// take returns the events recorded since the last take.
func (l *eventLog) take() []oauth2server.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// kinds lists the kinds of events.
func kinds(events []oauth2server.Event) []oauth2server.EventKind {
	var k []oauth2server.EventKind
	for _, e := range events {
		k = append(k, e.Kind)
	}
	return k
}

// Every kind of event the Server records, from the request that causes it,
// with the fields a security team needs and never a token or code.
func TestEvents(t *testing.T) {
	log := &eventLog{}
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.OnEvent = log.record }), withDPoP(nil))
	env.protect()
	ctx := context.Background()
	// Every token, code, request_uri and DPoP proof handed out or sent: no
	// event may hold one.
	var secrets []string

	t.Run("token issued and client authentication failed", func(t *testing.T) {
		at := env.clientCredentials(confID, confSecret)
		secrets = append(secrets, at)
		ev := log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventTokenIssued}, kinds(ev))
		assert.Equal(t, confID, ev[0].ClientID)
		assert.Equal(t, oauth2server.GrantClientCredentials, ev[0].GrantType)
		assert.Equal(t, []string{"read", "write", "admin"}, ev[0].Scope)
		assert.Equal(t, oauth2server.TokenDigest(at), ev[0].TokenID)
		assert.NotEmpty(t, ev[0].GrantID)
		assert.Equal(t, "192.0.2.1", ev[0].Address, "httptest's RemoteAddr")
		assert.Equal(t, env.clock.Now(), ev[0].Time)

		rec := env.post("/token", url.Values{"grant_type": {"client_credentials"}}, confID, "wrong")
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		ev = log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventClientAuthFailed}, kinds(ev))
		assert.Equal(t, confID, ev[0].ClientID)
		assert.Equal(t, "invalid_client", ev[0].Reason)
	})

	t.Run("refresh rotated, reuse detected, code replayed", func(t *testing.T) {
		at, rt := env.codeFlow(confID, confSecret, aliceID)
		secrets = append(secrets, at, rt)
		ev := log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventTokenIssued}, kinds(ev))
		assert.Equal(t, aliceID, ev[0].UserID)
		assert.Equal(t, oauth2server.GrantAuthorizationCode, ev[0].GrantType)
		grant := ev[0].GrantID

		rec := env.refresh(confID, confSecret, rt)
		require.Equal(t, http.StatusOK, rec.Code)
		secrets = append(secrets, decode(t, rec)["refresh_token"].(string))
		ev = log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventRefreshRotated, oauth2server.EventTokenIssued}, kinds(ev))
		assert.Equal(t, grant, ev[0].GrantID)
		assert.Equal(t, oauth2server.TokenDigest(rt), ev[0].TokenID)
		assert.Equal(t, oauth2server.GrantRefreshToken, ev[1].GrantType)

		require.Equal(t, http.StatusBadRequest, env.refresh(confID, confSecret, rt).Code)
		ev = log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventRefreshReuse}, kinds(ev))
		assert.Equal(t, grant, ev[0].GrantID)
		assert.Equal(t, aliceID, ev[0].UserID)

		code := &oauth2server.AuthorizationCode{Code: "replayed-code", RedirectURI: testRedirect, Scope: []string{"read"},
			ClientID: confID, UserID: aliceID, GrantID: "g-replay"}
		env.saveCode(code)
		secrets = append(secrets, code.Code)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code.Code}, "redirect_uri": {testRedirect}}
		require.Equal(t, http.StatusOK, env.post("/token", form, confID, confSecret).Code)
		require.Equal(t, http.StatusBadRequest, env.post("/token", form, confID, confSecret).Code)
		ev = log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventTokenIssued, oauth2server.EventCodeReplay}, kinds(ev))
		assert.Equal(t, "g-replay", ev[1].GrantID)
	})

	t.Run("introspected and revoked", func(t *testing.T) {
		at := env.clientCredentials(confID, confSecret)
		secrets = append(secrets, at)
		log.take()
		require.Equal(t, http.StatusOK, env.introspect(at, "").Code)
		require.Equal(t, http.StatusOK, env.revoke(at, "", confID, confSecret).Code)
		require.Equal(t, http.StatusOK, env.revoke("unknown-token", "", confID, confSecret).Code)
		require.Equal(t, http.StatusOK, env.introspect(at, "").Code)
		ev := log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventTokenIntrospected, oauth2server.EventTokenRevoked,
			oauth2server.EventTokenIntrospected}, kinds(ev), "revoking an unknown token is no event")
		assert.Equal(t, rsID, ev[0].ClientID)
		assert.True(t, *ev[0].Active)
		assert.Equal(t, confID, ev[1].ClientID)
		assert.Equal(t, oauth2server.TokenDigest(at), ev[1].TokenID)
		assert.False(t, *ev[2].Active)
	})

	t.Run("consent granted and denied", func(t *testing.T) {
		q := url.Values{"client_id": {confID}, "response_type": {"code"}, "redirect_uri": {testRedirect},
			"state": {"s"}, "scope": {"read"}}
		ar, err := env.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
		require.NoError(t, err)
		alice := &oauth2server.User{ID: aliceID}
		target, err := env.srv.Authorize(ctx, ar, alice, oauth2server.Decision{Approved: true})
		require.NoError(t, err)
		u, _ := url.Parse(target)
		secrets = append(secrets, u.Query().Get("code"))
		_, err = env.srv.Authorize(ctx, ar, alice, oauth2server.Decision{Approved: false})
		require.Error(t, err)
		ev := log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventConsentGranted, oauth2server.EventConsentDenied}, kinds(ev))
		assert.Equal(t, []string{"read"}, ev[0].Scope)
		assert.Equal(t, aliceID, ev[1].UserID)
	})

	t.Run("device approved and denied", func(t *testing.T) {
		dc, uc := env.startDevice("read")
		dc2, uc2 := env.startDevice("read")
		secrets = append(secrets, dc, uc, dc2, uc2)
		require.NoError(t, env.srv.ApproveDevice(ctx, uc, &oauth2server.User{ID: aliceID}, nil))
		require.NoError(t, env.srv.DenyDevice(ctx, uc2))
		ev := log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventDeviceApproved, oauth2server.EventDeviceDenied}, kinds(ev))
		assert.Equal(t, tvID, ev[0].ClientID)
		assert.Equal(t, aliceID, ev[0].UserID)
		assert.Equal(t, tvID, ev[1].ClientID)
	})

	t.Run("PAR pushed and rejected", func(t *testing.T) {
		got := env.push(pushParams(), confID, confSecret)
		require.Equal(t, http.StatusCreated, got.status, got.raw)
		uri := str(got.body["request_uri"])
		secrets = append(secrets, uri)
		ev := log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventPARPushed}, kinds(ev))
		assert.Equal(t, confID, ev[0].ClientID)
		assert.Equal(t, []string{"read"}, ev[0].Scope)
		assert.Equal(t, oauth2server.TokenDigest(uri), ev[0].TokenID, "the request_uri is named by its digest")
		assert.Equal(t, "192.0.2.1", ev[0].Address)

		form := pushParams()
		form.Set("redirect_uri", "https://attacker.example/cb")
		require.Equal(t, http.StatusBadRequest, env.push(form, confID, confSecret).status)
		require.Equal(t, http.StatusUnauthorized, env.push(pushParams(), confID, "wrong").status)
		ev = log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventPARRejected, oauth2server.EventClientAuthFailed}, kinds(ev),
			"a failed client authentication is no par_rejected")
		assert.Equal(t, confID, ev[0].ClientID)
		assert.Equal(t, "invalid_request", ev[0].Reason)
		assert.NotEmpty(t, ev[0].Description)
		assert.NotContains(t, ev[0].Description, "attacker", "descriptions never quote the request")
	})

	t.Run("DPoP proofs rejected and replayed", func(t *testing.T) {
		const parHTU = "http://example.com/par"
		k, other := newDPoPKey(t, "ES256"), newDPoPKey(t, "ES256")
		proof := func(method, htu, at string) string {
			p := k.proof(t, env.clock.Now(), method, htu, at, proofOpts{})
			secrets = append(secrets, p)
			return p
		}
		pushWith := func(p string) answer {
			req := tokenReq{path: "/par", body: pushParams().Encode(), auth: basic(confID, confSecret)}.build()
			req.Header.Set("DPoP", p)
			return env.doRequest(req)
		}

		// The PAR endpoint: a proof for another URL, and a replayed one.
		requireError(t, pushWith(proof(http.MethodPost, tokenHTU, "")), http.StatusBadRequest, "invalid_dpop_proof", false)
		p := proof(http.MethodPost, parHTU, "")
		got := pushWith(p)
		require.Equal(t, http.StatusCreated, got.status, got.raw)
		secrets = append(secrets, str(got.body["request_uri"]))
		requireError(t, pushWith(p), http.StatusBadRequest, "invalid_dpop_proof", false)
		ev := log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventDPoPProofRejected, oauth2server.EventPARPushed,
			oauth2server.EventDPoPReplay}, kinds(ev))
		assert.Equal(t, confID, ev[0].ClientID)
		assert.Equal(t, "invalid_dpop_proof", ev[0].Reason)
		assert.Equal(t, "The DPoP proof's htu is not the URL of the request.", ev[0].Description)
		assert.Equal(t, "192.0.2.1", ev[0].Address)
		assert.Equal(t, confID, ev[2].ClientID)

		// The token endpoint: a proof for another method, and a replayed one.
		requireError(t, env.dpopToken(clientCredentials, confID, confSecret, proof(http.MethodGet, tokenHTU, "")),
			http.StatusBadRequest, "invalid_dpop_proof", false)
		p = proof(http.MethodPost, tokenHTU, "")
		got = env.dpopToken(clientCredentials, confID, confSecret, p)
		require.Equal(t, http.StatusOK, got.status, got.raw)
		at := str(got.body["access_token"])
		secrets = append(secrets, at)
		requireError(t, env.dpopToken(clientCredentials, confID, confSecret, p), http.StatusBadRequest, "invalid_dpop_proof", false)
		ev = log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventDPoPProofRejected, oauth2server.EventTokenIssued,
			oauth2server.EventDPoPReplay}, kinds(ev))
		assert.Equal(t, confID, ev[0].ClientID)
		assert.Equal(t, "The DPoP proof's htm is not the method of the request.", ev[0].Description)
		assert.Equal(t, "192.0.2.1", ev[0].Address)
		assert.Equal(t, confID, ev[2].ClientID)
		assert.Equal(t, "The DPoP proof was used before.", ev[2].Description)

		// Resource servers, both layers: the proof of another key, the
		// bound token as a bearer token, a replayed proof.
		otherProof := other.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, proofOpts{})
		secrets = append(secrets, otherProof)
		assert.Equal(t, http.StatusUnauthorized, call(env.echo, "/api/me", "DPoP "+at, otherProof).Code)
		assert.Equal(t, http.StatusUnauthorized, call(env.mux, "/api/me", "Bearer "+at).Code)
		p = proof(http.MethodGet, apiHTU, at)
		assert.Equal(t, http.StatusOK, call(env.mux, "/api/me", "DPoP "+at, p).Code)
		assert.Equal(t, http.StatusUnauthorized, call(env.echo, "/api/me", "DPoP "+at, p).Code)
		ev = log.take()
		require.Equal(t, []oauth2server.EventKind{oauth2server.EventDPoPProofRejected, oauth2server.EventDPoPProofRejected,
			oauth2server.EventDPoPReplay}, kinds(ev))
		for _, e := range ev {
			assert.Equal(t, confID, e.ClientID, "the client of the token")
			assert.Equal(t, oauth2server.TokenDigest(at), e.TokenID)
			assert.Equal(t, "192.0.2.1", e.Address)
		}
		assert.Equal(t, "invalid_dpop_proof", ev[0].Reason)
		assert.Equal(t, "The DPoP proof's key is not the one the access token is bound to.", ev[0].Description)
		assert.Equal(t, "invalid_token", ev[1].Reason, "a bound token without its proof")
	})

	t.Run("application events through Record", func(t *testing.T) {
		env.srv.Record(ctx, oauth2server.Event{Kind: oauth2server.EventLoginFailed, Username: aliceName, Reason: "bad_password"})
		ev := log.take()
		require.Len(t, ev, 1)
		assert.Equal(t, env.clock.Now(), ev[0].Time, "Record stamps the time")
		assert.Equal(t, aliceName, ev[0].Username)
	})

	t.Run("no event holds a token or code", func(t *testing.T) {
		require.NotEmpty(t, secrets)
		log.mu.Lock()
		b, err := json.Marshal(log.all)
		log.mu.Unlock()
		require.NoError(t, err)
		assert.Contains(t, string(b), oauth2server.TokenDigest(secrets[0]), "tokens are named by digest")
		for _, s := range secrets {
			require.NotEmpty(t, s)
			assert.NotContains(t, string(b), s)
		}
	})

	t.Run("every kind the Server records", func(t *testing.T) {
		log.mu.Lock()
		seen := kinds(log.all)
		log.mu.Unlock()
		// consent_revoked is tested with the revocations (grants_test.go);
		// the login events are the application's.
		for _, k := range []oauth2server.EventKind{oauth2server.EventTokenIssued, oauth2server.EventRefreshRotated,
			oauth2server.EventRefreshReuse, oauth2server.EventCodeReplay, oauth2server.EventTokenRevoked,
			oauth2server.EventTokenIntrospected, oauth2server.EventClientAuthFailed, oauth2server.EventConsentGranted,
			oauth2server.EventConsentDenied, oauth2server.EventDeviceApproved, oauth2server.EventDeviceDenied,
			oauth2server.EventPARPushed, oauth2server.EventPARRejected, oauth2server.EventDPoPProofRejected,
			oauth2server.EventDPoPReplay} {
			assert.Contains(t, seen, k)
		}
	})
}

// use_dpop_nonce is the protocol's answer to a client's first proof when
// nonces are required, not a rejection: it records nothing, at the token
// endpoint and at resource servers.
func TestEventsNoDPoPNonceRejection(t *testing.T) {
	t.Parallel()
	log := &eventLog{}
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.OnEvent = log.record }),
		withDPoP(func(o *oauth2server.DPoPOptions) { o.RequireNonce = true }))
	env.protect()
	k := newDPoPKey(t, "ES256")
	got := env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
	requireError(t, got, http.StatusBadRequest, "use_dpop_nonce", false)
	withNonce := proofOpts{claims: func(c jwt.MapClaims) { c["nonce"] = env.srv.DPoPNonce() }}
	got = env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", withNonce))
	require.Equal(t, http.StatusOK, got.status, got.raw)
	at := str(got.body["access_token"])
	rec := call(env.mux, "/api/me", "DPoP "+at, k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, proofOpts{}))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
	assert.Equal(t, []oauth2server.EventKind{oauth2server.EventTokenIssued}, kinds(log.take()))
}

// Without OnEvent nothing is recorded and Record is a no-op.
func TestRecordWithoutHook(t *testing.T) {
	env := newTestEnv(t)
	assert.NotPanics(t, func() {
		env.srv.Record(context.Background(), oauth2server.Event{Kind: oauth2server.EventLoginSucceeded})
	})
}
