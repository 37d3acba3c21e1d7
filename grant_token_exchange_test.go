package oauth2server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// The clients of the token exchange tests: rsA may exchange (with a
// policy), rsNoPolicy has the grant but no policy, actorID is a service
// whose own tokens are actor tokens, impOnlyID may only impersonate.
const (
	rsA         = "rs-a"
	rsASecret   = "rs-a-secret"
	rsNoPolicy  = "rs-nopolicy"
	actorID     = "actor-svc"
	actorSecret = "actor-secret"
	impOnlyID   = "imp-only"
	rsB         = "https://rs-b.example"
)

// exchangeEnv is a bearerEnv (trusted issuers) with the exchange clients
// and their policies.
type exchangeEnv struct {
	*bearerEnv
}

func newExchangeEnv(t *testing.T, mutate func(*oauth2server.Options)) *exchangeEnv {
	t.Helper()
	env := &exchangeEnv{newBearerEnv(t, mutate)}
	ctx := context.Background()
	xg := []string{oauth2server.GrantTokenExchange, oauth2server.GrantRefreshToken}
	for _, c := range []*oauth2server.Client{
		{ID: rsA, SecretHash: oauth2server.HashSecret(rsASecret), Grants: xg, Scopes: []string{"read", "write"}, Introspect: true},
		{ID: rsNoPolicy, SecretHash: oauth2server.HashSecret(rsASecret), Grants: xg, Scopes: []string{"read", "write"}},
		{ID: impOnlyID, SecretHash: oauth2server.HashSecret(rsASecret), Grants: xg, Scopes: []string{"read", "write"}},
		{ID: actorID, SecretHash: oauth2server.HashSecret(actorSecret), Grants: []string{oauth2server.GrantClientCredentials},
			Scopes: []string{"read"}},
		{ID: "xchg-public", TokenEndpointAuthMethod: oauth2server.AuthMethodNone, Grants: xg, Scopes: []string{"read"}},
	} {
		require.NoError(t, env.model.AddClient(ctx, c))
	}
	for _, p := range []*oauth2server.ExchangePolicy{
		{ClientID: rsA, Audiences: []string{rsB, testAudience}, SubjectIssuers: []string{"", idpES}, Impersonation: true,
			Delegation: true, RefreshTokens: true},
		{ClientID: impOnlyID, Audiences: []string{rsB}, Impersonation: true},
	} {
		require.NoError(t, env.model.SetExchangePolicy(ctx, p))
	}
	return env
}

// userToken is an access token of alice (scope read) in a fresh family,
// and its refresh token.
func (env *exchangeEnv) userToken() (access, refresh string) {
	env.t.Helper()
	return env.codeFlow(confID, confSecret, aliceID)
}

// exchange sends a token exchange of client with the form f.
func (env *exchangeEnv) exchange(clientID, secret string, f url.Values) answer {
	env.t.Helper()
	f.Set("grant_type", oauth2server.GrantTokenExchange)
	return env.do(tokenReq{body: f.Encode(), auth: basic(clientID, secret)})
}

// subjectForm is the form of an exchange of the access token at.
func subjectForm(at string, kv ...string) url.Values {
	f := url.Values{"subject_token": {at}, "subject_token_type": {oauth2server.TokenTypeAccessToken}}
	for i := 0; i < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func TestTokenExchangeImpersonation(t *testing.T) {
	env := newExchangeEnv(t, nil)
	at, _ := env.userToken()
	subject := env.accessToken(at)

	r := env.exchange(rsA, rsASecret, subjectForm(at, "audience", rsB))
	requireOK(t, r)
	// issued_token_type, token_type, expires_in, no-store.
	assert.Equal(t, oauth2server.TokenTypeAccessToken, r.body["issued_token_type"])
	assert.NotContains(t, r.body, "refresh_token")
	tok := env.accessToken(str(r.body["access_token"]))
	assert.Equal(t, aliceID, tok.UserID, "the subject, impersonated")
	assert.Equal(t, rsA, tok.ClientID)
	assert.Equal(t, rsB, tok.Audience, "R-157")
	assert.Nil(t, tok.Actor, "an impersonation names no actor")
	assert.Equal(t, []string{"read"}, tok.Scope, "the subject's scope (R-156)")
	assert.Equal(t, subject.GrantID, tok.GrantID, "the subject's family")
	assert.False(t, tok.AccessTokenExpiresAt.After(subject.AccessTokenExpiresAt), "no longer than the subject (R-156)")

	// The token is for rs-b: this server's own resource (Options.Audience)
	// refuses it, introspection shows its audience.
	assert.Error(t, env.valid(tok.AccessToken))
	in := decode(t, env.introspect(tok.AccessToken, ""))
	assert.Equal(t, true, in["active"])
	assert.Equal(t, rsB, in["aud"])
}

func TestTokenExchangeDelegation(t *testing.T) {
	env := newExchangeEnv(t, nil)
	at, _ := env.userToken()
	actor := env.clientCredentials(actorID, actorSecret)

	r := env.exchange(rsA, rsASecret, subjectForm(at, "resource", rsB,
		"actor_token", actor, "actor_token_type", oauth2server.TokenTypeAccessToken))
	requireOK(t, r)
	tok := env.accessToken(str(r.body["access_token"]))
	assert.Equal(t, aliceID, tok.UserID)
	require.NotNil(t, tok.Actor, "R-159")
	assert.Equal(t, oauth2server.Actor{Subject: actorID, ClientID: actorID}, *tok.Actor)
	in := decode(t, env.introspect(tok.AccessToken, ""))
	assert.Equal(t, map[string]any{"sub": actorID, "client_id": actorID}, in["act"])

	t.Run("ok, a second delegation nests the first actor (R-159)", func(t *testing.T) {
		second := env.clientCredentials(actorID, actorSecret)
		r := env.exchange(rsA, rsASecret, subjectForm(tok.AccessToken, "audience", rsB,
			"actor_token", second, "actor_token_type", oauth2server.TokenTypeAccessToken))
		requireOK(t, r)
		again := env.accessToken(str(r.body["access_token"]))
		require.NotNil(t, again.Actor)
		require.NotNil(t, again.Actor.Actor)
		assert.Equal(t, *tok.Actor, *again.Actor.Actor)
	})
	t.Run("ok, an impersonation of a delegated token keeps its act", func(t *testing.T) {
		r := env.exchange(rsA, rsASecret, subjectForm(tok.AccessToken, "audience", rsB))
		requireOK(t, r)
		assert.Equal(t, tok.Actor, env.accessToken(str(r.body["access_token"])).Actor)
	})
}

// An exchanged token joins the subject's grant family: revoking the
// subject's refresh token revokes it too.
func TestTokenExchangeRevocationPropagates(t *testing.T) {
	env := newExchangeEnv(t, nil)
	at, rt := env.userToken()
	r := env.exchange(rsA, rsASecret, subjectForm(at, "audience", rsB))
	requireOK(t, r)
	exchanged := str(r.body["access_token"])
	require.Equal(t, http.StatusOK, env.revoke(rt, "refresh_token", confID, confSecret).Code)
	assert.True(t, env.accessToken(exchanged).Revoked)
	assert.Equal(t, map[string]any{"active": false}, decode(t, env.introspect(exchanged, "")))
}

// requested_token_type refresh_token, where the policy allows it: the
// refresh token travels in access_token, with token_type N_A, and
// refreshes keep the audience and the actor.
func TestTokenExchangeRefreshToken(t *testing.T) {
	env := newExchangeEnv(t, nil)
	at, _ := env.userToken()
	actor := env.clientCredentials(actorID, actorSecret)
	r := env.exchange(rsA, rsASecret, subjectForm(at, "audience", rsB, "requested_token_type", oauth2server.TokenTypeRefreshToken,
		"actor_token", actor, "actor_token_type", oauth2server.TokenTypeAccessToken))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assertNoStore(t, r)
	assert.Equal(t, oauth2server.TokenTypeRefreshToken, r.body["issued_token_type"])
	assert.Equal(t, "N_A", r.body["token_type"])
	assert.NotContains(t, r.body, "refresh_token")
	rt := str(r.body["access_token"])
	stored := env.refreshToken(rt)
	assert.Equal(t, rsB, stored.Audience)

	refreshed := env.refresh(rsA, rsASecret, rt)
	require.Equal(t, http.StatusOK, refreshed.Code, refreshed.Body.String())
	tok := env.accessToken(decode(t, refreshed)["access_token"].(string))
	assert.Equal(t, rsB, tok.Audience)
	require.NotNil(t, tok.Actor)
	assert.Equal(t, actorID, tok.Actor.Subject)

	t.Run("nok, a policy without refresh tokens", func(t *testing.T) {
		r := env.exchange(impOnlyID, rsASecret, subjectForm(at, "audience", rsB, "requested_token_type", oauth2server.TokenTypeRefreshToken))
		requireError(t, r, http.StatusBadRequest, "invalid_request", false)
	})
}

// JWTs and ID tokens of trusted issuers are subject tokens too:
// their sub is mapped to a local user; they start a new family.
func TestTokenExchangeForeignSubjects(t *testing.T) {
	env := newExchangeEnv(t, nil)
	now := env.clock.Now()
	key := env.issuerKeys[idpES]
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": idpES, "sub": aliceAtIdP, "aud": testIssuer, "exp": now.Add(10 * time.Minute).Unix(),
			"iat": now.Unix(), "scope": "read write"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	form := func(raw, typ string, kv ...string) url.Values {
		f := url.Values{"subject_token": {raw}, "subject_token_type": {typ}, "audience": {rsB}}
		for i := 0; i < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return f
	}
	actor := env.clientCredentials(actorID, actorSecret)

	tests := []struct {
		name              string
		whenForm          url.Values
		expectCode        string
		expectDescription string
		expectScope       []string
	}{
		{name: "ok, a JWT of a trusted issuer", whenForm: form(key.sign(t, claims(nil), nil), oauth2server.TokenTypeJWT),
			expectScope: []string{"read", "write"}},
		{name: "ok, an ID token of a trusted issuer", whenForm: form(key.sign(t, claims(nil), map[string]any{"typ": "JWT"}),
			oauth2server.TokenTypeIDToken), expectScope: []string{"read", "write"}},
		{name: "ok, a JWT larger than an assertion may be", whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) {
			c["pad"] = strings.Repeat("p", 10<<10)
		}), nil), oauth2server.TokenTypeJWT), expectScope: []string{"read", "write"}},
		{name: "ok, may_act names the actor (R-160)",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["may_act"] = map[string]any{"sub": actorID} }), nil),
				oauth2server.TokenTypeJWT, "actor_token", actor, "actor_token_type", oauth2server.TokenTypeAccessToken),
			expectScope: []string{"read", "write"}},
		{name: "ok, may_act names the client, which acts without an actor token (R-160)",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["may_act"] = map[string]any{"sub": rsA} }), nil),
				oauth2server.TokenTypeJWT),
			expectScope: []string{"read", "write"}},
		{name: "nok, may_act names someone else (R-160)", expectCode: "invalid_request", expectDescription: "may_act",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["may_act"] = map[string]any{"sub": "other-svc"} }), nil),
				oauth2server.TokenTypeJWT, "actor_token", actor, "actor_token_type", oauth2server.TokenTypeAccessToken)},
		{name: "nok, an untrusted issuer", expectCode: "invalid_request", expectDescription: "issuer is not trusted",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), nil), oauth2server.TokenTypeJWT)},
		{name: "nok, a trusted issuer the policy does not accept", expectCode: "invalid_request", expectDescription: "not permitted",
			whenForm: form(env.issuerKeys[idpLong].sign(t, jwt.MapClaims{"iss": idpLong, "sub": aliceAtIdP, "aud": testIssuer,
				"exp": now.Add(time.Minute).Unix()}, nil), oauth2server.TokenTypeJWT)},
		{name: "nok, expired", expectCode: "invalid_request", expectDescription: "has expired",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), nil), oauth2server.TokenTypeJWT)},
		{name: "nok, aud names another server", expectCode: "invalid_request", expectDescription: "aud does not name",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["aud"] = "https://other.example" }), nil), oauth2server.TokenTypeJWT)},
		{name: "nok, signed by another key", expectCode: "invalid_request", expectDescription: "signature or algorithm",
			whenForm: form(assertionKey{kid: key.kid, alg: "ES256", signer: env.other.signer}.sign(t, claims(nil), nil), oauth2server.TokenTypeJWT)},
		{name: "nok, alg none", expectCode: "invalid_request", expectDescription: "signature or algorithm", whenForm: form(unsignedJWT(t, claims(nil)), oauth2server.TokenTypeJWT)},
		{name: "nok, a subject nobody here is", expectCode: "invalid_request", expectDescription: "subject is unknown",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["sub"] = "mallory@idp" }), nil), oauth2server.TokenTypeJWT)},
		{name: "nok, a scope beyond the subject token's (R-156)", expectCode: "invalid_scope", expectDescription: "exceeds the subject token",
			whenForm: form(key.sign(t, claims(func(c jwt.MapClaims) { c["scope"] = "read" }), nil), oauth2server.TokenTypeJWT, "scope", "read write")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.exchange(rsA, rsASecret, tc.whenForm)
			if tc.expectCode != "" {
				requireError(t, r, http.StatusBadRequest, tc.expectCode, false)
				assert.Contains(t, r.body["error_description"], tc.expectDescription)
				return
			}
			requireOK(t, r)
			tok := env.accessToken(str(r.body["access_token"]))
			assert.Equal(t, aliceID, tok.UserID)
			assert.Equal(t, tc.expectScope, tok.Scope)
			assert.Equal(t, rsB, tok.Audience)
			assert.Equal(t, now.Add(10*time.Minute).Unix(), tok.AccessTokenExpiresAt.Unix(), "capped at the subject's exp")
		})
	}

	t.Run("ok, the same JWT twice: a token is no one-time assertion", func(t *testing.T) {
		raw := key.sign(t, claims(func(c jwt.MapClaims) { c["jti"] = "fixed" }), nil)
		requireOK(t, env.exchange(rsA, rsASecret, form(raw, oauth2server.TokenTypeJWT)))
		requireOK(t, env.exchange(rsA, rsASecret, form(raw, oauth2server.TokenTypeJWT)))
	})
	t.Run("ok, a foreign subject starts a new family", func(t *testing.T) {
		r := env.exchange(rsA, rsASecret, form(key.sign(t, claims(nil), nil), oauth2server.TokenTypeJWT))
		requireOK(t, r)
		first := env.accessToken(str(r.body["access_token"]))
		r = env.exchange(rsA, rsASecret, form(key.sign(t, claims(nil), nil), oauth2server.TokenTypeJWT))
		requireOK(t, r)
		assert.NotEqual(t, first.GrantID, env.accessToken(str(r.body["access_token"])).GrantID)
	})
}

// Every refused exchange gets the RFC 8693 §2.2.2 error: invalid_request
// for the parameters and the tokens, invalid_target for
// the targets, invalid_scope, unauthorized_client.
func TestTokenExchangeRefused(t *testing.T) {
	env := newExchangeEnv(t, nil)
	at, _ := env.userToken()
	revokedAT, _ := env.userToken()
	require.Equal(t, http.StatusOK, env.revoke(revokedAT, "access_token", confID, confSecret).Code)
	expiredTok := &oauth2server.Token{AccessToken: "expired-at", AccessTokenExpiresAt: env.clock.Now().Add(-time.Second),
		ClientID: confID, UserID: aliceID, Scope: []string{"read"}, GrantID: "g-expired", IssuedAt: env.clock.Now().Add(-time.Hour)}
	require.NoError(t, env.model.SaveToken(context.Background(), expiredTok, nil, nil))
	otherClientToken := env.clientCredentials(actorID, actorSecret)

	tests := []struct {
		name              string
		whenClient        string
		whenForm          url.Values
		expectCode        string
		expectDescription string
	}{
		{name: "nok, no subject_token (R-152)", whenForm: url.Values{"subject_token_type": {oauth2server.TokenTypeAccessToken}},
			expectCode: "invalid_request", expectDescription: "subject_token and subject_token_type are required"},
		{name: "nok, no subject_token_type (R-152)", whenForm: url.Values{"subject_token": {at}},
			expectCode: "invalid_request", expectDescription: "subject_token and subject_token_type are required"},
		{name: "nok, actor_token without actor_token_type (R-152)", whenForm: subjectForm(at, "actor_token", at),
			expectCode: "invalid_request", expectDescription: "must be sent together"},
		{name: "nok, actor_token_type without actor_token (R-152)", whenForm: subjectForm(at, "actor_token_type", oauth2server.TokenTypeAccessToken),
			expectCode: "invalid_request", expectDescription: "must be sent together"},
		{name: "nok, a refresh token as subject is not supported (R-153)",
			whenForm:   url.Values{"subject_token": {at}, "subject_token_type": {oauth2server.TokenTypeRefreshToken}},
			expectCode: "invalid_request", expectDescription: "subject_token_type is not supported"},
		{name: "nok, an unknown subject_token_type (R-153)",
			whenForm:   url.Values{"subject_token": {at}, "subject_token_type": {"urn:ietf:params:oauth:token-type:saml2"}},
			expectCode: "invalid_request", expectDescription: "subject_token_type is not supported"},
		{name: "nok, an unknown actor_token_type (R-153)",
			whenForm:   subjectForm(at, "actor_token", at, "actor_token_type", "urn:example:other"),
			expectCode: "invalid_request", expectDescription: "actor_token_type is not supported"},
		{name: "nok, requested_token_type id_token", whenForm: subjectForm(at, "requested_token_type", oauth2server.TokenTypeIDToken),
			expectCode: "invalid_request", expectDescription: "requested_token_type is not supported"},
		{name: "nok, requested_token_type jwt with opaque access tokens", whenForm: subjectForm(at, "requested_token_type", oauth2server.TokenTypeJWT),
			expectCode: "invalid_request", expectDescription: "requested_token_type is not supported"},
		{name: "nok, an unknown subject token (R-153)", whenForm: subjectForm("no-such-token"),
			expectCode: "invalid_request", expectDescription: "subject_token is invalid"},
		{name: "nok, a revoked subject token (R-153)", whenForm: subjectForm(revokedAT),
			expectCode: "invalid_request", expectDescription: "subject_token is invalid"},
		{name: "nok, an expired subject token (R-153)", whenForm: subjectForm(expiredTok.AccessToken),
			expectCode: "invalid_request", expectDescription: "subject_token is invalid"},
		{name: "nok, an invalid actor token (R-153)", whenForm: subjectForm(at, "actor_token", "nope", "actor_token_type", oauth2server.TokenTypeAccessToken),
			expectCode: "invalid_request", expectDescription: "actor_token is invalid"},
		{name: "nok, another client's token without a user", whenForm: subjectForm(otherClientToken, "audience", rsB),
			expectCode: "invalid_request", expectDescription: "without a user"},
		{name: "nok, subject_token twice (R-14)", whenForm: subjectForm(at, "subject_token", at),
			expectCode: "invalid_request", expectDescription: "repeats a parameter"},
		{name: "nok, two audiences (R-157)", whenForm: subjectForm(at, "audience", rsB, "audience", testAudience),
			expectCode: "invalid_target", expectDescription: "one audience or resource"},
		{name: "nok, an audience and another resource (R-157)", whenForm: subjectForm(at, "audience", rsB, "resource", testAudience),
			expectCode: "invalid_target", expectDescription: "one audience or resource"},
		{name: "nok, a resource that is not an absolute URI (R-157)", whenForm: subjectForm(at, "resource", "rs-b"),
			expectCode: "invalid_target", expectDescription: "absolute URI"},
		{name: "nok, a resource with a fragment (R-157)", whenForm: subjectForm(at, "resource", rsB+"#x"),
			expectCode: "invalid_target", expectDescription: "absolute URI"},
		{name: "nok, a target the policy does not serve (R-157)", whenForm: subjectForm(at, "audience", "https://rs-z.example"),
			expectCode: "invalid_target", expectDescription: "may not obtain tokens for this target"},
		{name: "nok, a scope beyond the subject's (R-156)", whenForm: subjectForm(at, "audience", rsB, "scope", "read write"),
			expectCode: "invalid_scope", expectDescription: "exceeds the subject token's scope"},
		{name: "nok, no policy for the client: denied by default (R-155)", whenClient: rsNoPolicy, whenForm: subjectForm(at, "audience", rsB),
			expectCode: "invalid_request", expectDescription: "not permitted"},
		{name: "nok, delegation where the policy allows impersonation only (R-155)", whenClient: impOnlyID,
			whenForm:   subjectForm(at, "audience", rsB, "actor_token", otherClientToken, "actor_token_type", oauth2server.TokenTypeAccessToken),
			expectCode: "invalid_request", expectDescription: "not permitted"},
		{name: "nok, a client without the grant (R-154)", whenClient: confID, whenForm: subjectForm(at, "audience", rsB),
			expectCode: "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, secret := rsA, rsASecret
			switch tc.whenClient {
			case "":
			case confID:
				client, secret = confID, confSecret
			default:
				client = tc.whenClient
			}
			r := env.exchange(client, secret, tc.whenForm)
			requireError(t, r, http.StatusBadRequest, tc.expectCode, false)
			assert.Contains(t, r.body["error_description"], tc.expectDescription)
		})
	}

	t.Run("nok, a public client may not exchange (R-154)", func(t *testing.T) {
		f := subjectForm(at, "audience", rsB)
		f.Set("grant_type", oauth2server.GrantTokenExchange)
		f.Set("client_id", "xchg-public")
		requireError(t, env.do(tokenReq{body: f.Encode()}), http.StatusBadRequest, "unauthorized_client", false)
	})
}

// With JWT access tokens the exchanged token is a JWT whose aud is the
// target and whose act names the actor; it verifies at the target
// by its aud, not at Options.Audience.
func TestTokenExchangeJWT(t *testing.T) {
	signer, keyPEM := genKey(t, "ES256")
	env := newExchangeEnv(t, func(o *oauth2server.Options) {
		o.JWT = &oauth2server.JWTOptions{}
		o.SigningKeys = []oauth2server.SigningKey{{PEM: keyPEM}}
	})
	at, _ := env.userToken()
	actor := env.clientCredentials(actorID, actorSecret)
	r := env.exchange(rsA, rsASecret, subjectForm(at, "audience", rsB, "requested_token_type", oauth2server.TokenTypeJWT,
		"actor_token", actor, "actor_token_type", oauth2server.TokenTypeJWT))
	requireOK(t, r)
	assert.Equal(t, oauth2server.TokenTypeJWT, r.body["issued_token_type"])
	raw := str(r.body["access_token"])
	header, claims := jwtParts(t, raw)
	assert.Equal(t, "at+jwt", header["typ"])
	assert.Equal(t, []any{rsB}, claims["aud"])
	assert.Equal(t, aliceID, claims["sub"])
	assert.Equal(t, rsA, claims["client_id"])
	assert.Equal(t, map[string]any{"sub": actorID, "client_id": actorID}, claims["act"])
	assert.Error(t, env.valid(raw), "not for Options.Audience")

	in := decode(t, env.introspect(raw, ""))
	assert.Equal(t, true, in["active"])
	assert.Equal(t, rsB, in["aud"])
	assert.Equal(t, map[string]any{"sub": actorID, "client_id": actorID}, in["act"])

	t.Run("ok, the exchanged JWT is a subject token again", func(t *testing.T) {
		r := env.exchange(rsA, rsASecret, subjectForm(raw, "audience", testAudience))
		requireOK(t, r)
		assert.NoError(t, env.valid(str(r.body["access_token"])), "for Options.Audience this time")
	})
	t.Run("nok, a JWT signed with our key for an audience never exchanged is inactive", func(t *testing.T) {
		h, c := jwtParts(t, at)
		c["aud"] = []string{"https://never.example"}
		c["jti"] = "never-saved"
		forged := assertionKey{kid: str(h["kid"]), alg: "ES256", signer: signer}.sign(t, jwt.MapClaims(c), map[string]any{"typ": "at+jwt"})
		assert.Equal(t, map[string]any{"active": false}, decode(t, env.introspect(forged, "")))
		c["aud"] = []string{testAudience}
		genuine := assertionKey{kid: str(h["kid"]), alg: "ES256", signer: signer}.sign(t, jwt.MapClaims(c), map[string]any{"typ": "at+jwt"})
		assert.Equal(t, true, decode(t, env.introspect(genuine, ""))["active"], "the same, for Options.Audience: the key is ours")
	})
}

func TestTokenExchangeSetup(t *testing.T) {
	t.Run("ok, on by default with TokenExchangeModel, in metadata", func(t *testing.T) {
		env := newTestEnv(t)
		m, err := env.srv.Metadata(oauth2server.Endpoints{Token: tokenURL})
		require.NoError(t, err)
		assert.Contains(t, m.GrantTypesSupported, oauth2server.GrantTokenExchange)
	})
	t.Run("nok, without client authentication (R-154)", func(t *testing.T) {
		_, err := oauth2server.New(memorymodelNew(), oauth2server.Options{
			RequireClientAuthentication: map[string]bool{oauth2server.GrantTokenExchange: false}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "token exchange always requires client authentication")
	})
	t.Run("nok, listed without TokenExchangeModel", func(t *testing.T) {
		_, err := oauth2server.New(verifyingModel{minimalModel{memorymodelNew()}}, oauth2server.Options{
			Grants: []string{oauth2server.GrantTokenExchange}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "needs TokenExchangeModel")
	})
}

// An ID token of this OpenID Provider is a subject token of the client it
// was issued to, and of no other.
func TestTokenExchangeOwnIDToken(t *testing.T) {
	_, pemKey := genKey(t, "RS256")
	env := newExchangeEnv(t, func(o *oauth2server.Options) {
		o.OpenID = &oauth2server.OpenIDOptions{}
		o.SigningKeys = []oauth2server.SigningKey{{PEM: pemKey}}
	})
	ctx := context.Background()
	require.NoError(t, env.model.AddClient(ctx, &oauth2server.Client{ID: "rp-x", SecretHash: oauth2server.HashSecret(rsASecret),
		RedirectURIs: []string{testRedirect}, Scopes: []string{"openid", "read"},
		Grants: []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantTokenExchange}}))
	require.NoError(t, env.model.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: "rp-x", Audiences: []string{rsB},
		Impersonation: true}))
	env.saveCode(&oauth2server.AuthorizationCode{Code: "oidc-code", RedirectURI: testRedirect, Scope: []string{"openid", "read"},
		ClientID: "rp-x", UserID: aliceID, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256",
		GrantID: "g-oidc", OpenID: &oauth2server.OpenIDSession{AuthTime: env.clock.Now()}})
	rec := env.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {"oidc-code"},
		"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}}, "rp-x", rsASecret)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	idToken := decode(t, rec)["id_token"].(string)
	form := url.Values{"subject_token": {idToken}, "subject_token_type": {oauth2server.TokenTypeIDToken}, "audience": {rsB}}

	r := env.exchange("rp-x", rsASecret, form)
	requireOK(t, r)
	tok := env.accessToken(str(r.body["access_token"]))
	assert.Equal(t, aliceID, tok.UserID)
	assert.Empty(t, tok.Scope, "an ID token grants no scope")

	r = env.exchange(rsA, rsASecret, form)
	requireError(t, r, http.StatusBadRequest, "invalid_request", false)
	assert.Contains(t, r.body["error_description"], "issued to another client")

	env.clock.Advance(oauth2server.DefaultIDTokenLifetime)
	r = env.exchange("rp-x", rsASecret, form)
	requireError(t, r, http.StatusBadRequest, "invalid_request", false)
	assert.Contains(t, r.body["error_description"], "subject_token is invalid")
}
