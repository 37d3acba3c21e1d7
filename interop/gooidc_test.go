package interop

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// goOIDC is a relying party built with github.com/coreos/go-oidc and
// golang.org/x/oauth2, as their documentation shows.
type goOIDC struct {
	provider *oidc.Provider
	conf     *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// newGoOIDC discovers the provider (OIDC Discovery) and configures the
// client c of it.
func newGoOIDC(t *testing.T, ctx context.Context, issuer string, c client) *goOIDC {
	t.Helper()
	provider, err := oidc.NewProvider(ctx, issuer)
	require.NoError(t, err, "discovery")
	conf := &oauth2.Config{
		ClientID:     c.ID,
		ClientSecret: c.Secret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  c.Redirect[0],
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	return &goOIDC{provider: provider, conf: conf, verifier: provider.Verifier(&oidc.Config{ClientID: c.ID})}
}

// authRequest is one authentication request's secrets.
type authRequest struct {
	state, nonce, verifier string
}

func newAuthRequest() authRequest {
	return authRequest{state: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier(), verifier: oauth2.GenerateVerifier()}
}

// url is the authorization URL with PKCE (S256) and the nonce; extra are
// more parameters, name and value.
func (rp *goOIDC) url(r authRequest, extra ...string) string {
	opts := []oauth2.AuthCodeOption{oidc.Nonce(r.nonce), oauth2.S256ChallengeOption(r.verifier)}
	for i := 0; i+1 < len(extra); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(extra[i], extra[i+1]))
	}
	return rp.conf.AuthCodeURL(r.state, opts...)
}

// redeem checks the redirect's state, redeems its code and verifies the ID
// token as go-oidc's documentation says: signature, iss, aud, exp, then
// the nonce and at_hash by hand.
func (rp *goOIDC) redeem(t *testing.T, ctx context.Context, r authRequest, redirect *url.URL) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	q := redirect.Query()
	require.Empty(t, q.Get("error"), "%s", redirect)
	require.Equal(t, r.state, q.Get("state"))
	tok, err := rp.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(r.verifier))
	require.NoError(t, err)
	raw, ok := tok.Extra("id_token").(string)
	require.True(t, ok, "an ID token in the token response")
	idt, err := rp.verifier.Verify(ctx, raw)
	require.NoError(t, err)
	require.Equal(t, r.nonce, idt.Nonce, "R-123: the nonce of the request")
	require.NotEmpty(t, idt.AccessTokenHash)
	require.NoError(t, idt.VerifyAccessToken(tok.AccessToken), "at_hash")
	return tok, idt
}

// idClaims are the ID token claims the tests look at.
type idClaims struct {
	AuthTime int64    `json:"auth_time"`
	AMR      []string `json:"amr"`
	Email    string   `json:"email"`
}

func claimsOf(t *testing.T, idt *oidc.IDToken) idClaims {
	t.Helper()
	var c idClaims
	require.NoError(t, idt.Claims(&c))
	return c
}

// go-oidc with x/oauth2 against the example: discovery, the code flow with
// PKCE and a nonce through the real login and consent pages, the ID token
// verified with the JWK Set, refresh with a new verifiable ID token, and
// UserInfo.
func TestGoOIDC(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := rpClient("go-oidc-rp", "go-oidc-secret", "http://127.0.0.1:1/go-oidc/callback")
	o := startOP(t, c)
	rp := newGoOIDC(t, ctx, o.issuer, c)

	var meta struct {
		Issuer           string   `json:"issuer"`
		UserInfo         string   `json:"userinfo_endpoint"`
		EndSession       string   `json:"end_session_endpoint"`
		JWKS             string   `json:"jwks_uri"`
		Algs             []string `json:"id_token_signing_alg_values_supported"`
		SubjectTypes     []string `json:"subject_types_supported"`
		ResponseTypes    []string `json:"response_types_supported"`
		CodeChallenge    []string `json:"code_challenge_methods_supported"`
		ClaimsParameter  bool     `json:"claims_parameter_supported"`
		AuthorizationISS bool     `json:"authorization_response_iss_parameter_supported"`
	}
	require.NoError(t, rp.provider.Claims(&meta))
	assert.Equal(t, o.issuer, meta.Issuer, "R-136")
	assert.Equal(t, o.issuer+"/oauth/authorize", rp.conf.Endpoint.AuthURL)
	assert.Equal(t, o.issuer+"/oauth/token", rp.conf.Endpoint.TokenURL)
	assert.Equal(t, o.issuer+"/oauth/userinfo", meta.UserInfo)
	assert.Equal(t, o.issuer+"/oauth/end_session", meta.EndSession)
	assert.Equal(t, []string{"RS256"}, meta.Algs, "R-125")
	assert.Equal(t, []string{"public"}, meta.SubjectTypes)
	assert.Contains(t, meta.ResponseTypes, "code")
	assert.Equal(t, []string{"S256"}, meta.CodeChallenge)

	ua := newUserAgent(t)
	r := newAuthRequest()
	redirect := ua.visit(rp.url(r), c.Redirect[0])
	assert.Equal(t, []string{"login", "consent"}, ua.pages)
	assert.Equal(t, o.issuer, redirect.Query().Get("iss"), "RFC 9207")
	tok, idt := rp.redeem(t, ctx, r, redirect)
	assert.Equal(t, userID, idt.Subject)
	assert.Equal(t, o.issuer, idt.Issuer)
	assert.Equal(t, []string{c.ID}, idt.Audience)
	assert.WithinDuration(t, time.Now().Add(10*time.Minute), idt.Expiry, time.Minute)
	first := claimsOf(t, idt)
	assert.Equal(t, []string{"pwd"}, first.AMR)
	assert.NotZero(t, first.AuthTime)
	assert.Empty(t, first.Email, "R-134: scope claims go to UserInfo when an access token is issued")
	require.NotEmpty(t, tok.RefreshToken)

	// UserInfo with the access token: the claims of profile and email,
	// for the ID token's sub.
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	require.NoError(t, err)
	assert.Equal(t, idt.Subject, info.Subject, "R-133")
	assert.Equal(t, userEmail, info.Email)
	assert.True(t, info.EmailVerified)
	var profile struct {
		Name string `json:"name"`
	}
	require.NoError(t, info.Claims(&profile))
	assert.Equal(t, userName, profile.Name)

	// Refresh: a new access token and a new ID token, verifiable, for the
	// same user and login, without the nonce.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := rp.conf.TokenSource(ctx, &expired).Token()
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken, refreshed.AccessToken)
	raw, ok := refreshed.Extra("id_token").(string)
	require.True(t, ok, "an ID token on refresh")
	idt2, err := rp.verifier.Verify(ctx, raw)
	require.NoError(t, err)
	assert.Equal(t, idt.Subject, idt2.Subject)
	assert.Equal(t, idt.Audience, idt2.Audience)
	assert.Empty(t, idt2.Nonce)
	assert.Equal(t, first.AuthTime, claimsOf(t, idt2).AuthTime, "the original auth_time")
	require.NoError(t, idt2.VerifyAccessToken(refreshed.AccessToken))
	info, err = rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(refreshed))
	require.NoError(t, err)
	assert.Equal(t, userEmail, info.Email)

	// An ID token verified for another client is refused.
	other := rp.provider.Verifier(&oidc.Config{ClientID: "someone-else"})
	_, err = other.Verify(ctx, raw)
	assert.ErrorContains(t, err, "audience")
}
