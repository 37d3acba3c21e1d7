package modeltest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// fullToken is a token with every field set, in a new grant family. Its
// ID is what a JWT access token carries as its jti.
func fullToken() *oauth2server.Token {
	n := now()
	return &oauth2server.Token{
		ID:                    random("jti-"),
		AccessToken:           random("at-"),
		AccessTokenExpiresAt:  n.Add(time.Hour),
		RefreshToken:          random("rt-"),
		RefreshTokenExpiresAt: n.Add(14 * 24 * time.Hour),
		Scope:                 []string{"read"},
		RefreshTokenScope:     []string{"read", "write"},
		ClientID:              random("client-"),
		UserID:                random("user-"),
		GrantID:               random("grant-"),
		IssuedAt:              n,
		OpenID:                openIDSession(false),
		Audience:              "https://rs.example",
		Actor:                 &oauth2server.Actor{Subject: "svc-a", ClientID: "a", Actor: &oauth2server.Actor{Subject: "svc-b", Issuer: "https://idp.example"}},
		DPoPJKT:               "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
		Resources:             []string{"https://api.example/orders"},
		RefreshTokenResources: []string{"https://api.example/orders", "urn:example:ledger"},
		Extra:                 extra(),
	}
}

// openIDSession is an OpenID Connect session as the Server stores it: on a
// code with the nonce, on a token without.
func openIDSession(nonce bool) *oauth2server.OpenIDSession {
	o := &oauth2server.OpenIDSession{AuthTime: now().Add(-time.Minute), ACR: "urn:example:acr:mfa",
		AMR: []string{"pwd", "otp"}, Claims: `{"userinfo":{"email":null}}`}
	if nonce {
		o.Nonce = random("nonce-")
	}
	return o
}

// assertOpenID checks an OpenIDSession field by field.
func assertOpenID(t *testing.T, want, got *oauth2server.OpenIDSession) {
	t.Helper()
	if want == nil {
		assert.Nil(t, got, "OpenID")
		return
	}
	require.NotNil(t, got, "OpenID")
	assert.Equal(t, want.Nonce, got.Nonce, "OpenID.Nonce")
	assertTime(t, want.AuthTime, got.AuthTime, "OpenID.AuthTime")
	assert.Equal(t, want.ACR, got.ACR, "OpenID.ACR")
	assertStrings(t, want.AMR, got.AMR, "OpenID.AMR")
	assert.Equal(t, want.Claims, got.Claims, "OpenID.Claims")
}

// accessOnlyToken is a token without refresh token, as client_credentials
// issues it.
func accessOnlyToken() *oauth2server.Token {
	n := now()
	return &oauth2server.Token{
		AccessToken:          random("at-"),
		AccessTokenExpiresAt: n.Add(time.Hour),
		Scope:                []string{"read"},
		ClientID:             random("client-"),
		GrantID:              random("grant-"),
		IssuedAt:             n,
	}
}

// copyToken returns a copy of t that shares no slice or Extra with it, so
// that t stays what was saved whatever the model does with the copy.
func copyToken(t *oauth2server.Token) *oauth2server.Token {
	cp := *t
	cp.Scope, cp.RefreshTokenScope = slices.Clone(t.Scope), slices.Clone(t.RefreshTokenScope)
	cp.Resources, cp.RefreshTokenResources = slices.Clone(t.Resources), slices.Clone(t.RefreshTokenResources)
	cp.Extra = maps.Clone(t.Extra)
	cp.Actor = t.Actor.Clone()
	cp.OpenID = t.OpenID.Clone()
	return &cp
}

// mutateToken changes every field of a token a caller could reach,
// slices and Extra in place, to show that the model did not hand out what
// it stores.
func mutateToken(t *oauth2server.Token) {
	t.ID, t.ClientID, t.UserID, t.GrantID = "changed", "changed", "changed", "changed"
	t.Revoked = !t.Revoked
	t.AccessTokenExpiresAt = t.AccessTokenExpiresAt.Add(time.Hour)
	if len(t.Scope) > 0 {
		t.Scope[0] = "admin"
	}
	if len(t.RefreshTokenScope) > 0 {
		t.RefreshTokenScope[0] = "admin"
	}
	if len(t.Resources) > 0 {
		t.Resources[0] = "https://evil.example/"
	}
	if len(t.RefreshTokenResources) > 0 {
		t.RefreshTokenResources[0] = "https://evil.example/"
	}
	if t.Extra != nil {
		t.Extra["tenant"] = "changed"
	}
	if t.OpenID != nil {
		t.OpenID.ACR = "changed"
		if len(t.OpenID.AMR) > 0 {
			t.OpenID.AMR[0] = "changed"
		}
	}
	if t.Actor != nil && t.Actor.Actor != nil {
		t.Actor.Actor.Subject = "changed"
	}
}

// lookup says which token string a record was found by.
type lookup int

const (
	byAccess lookup = iota
	byRefresh
)

// assertToken checks every field of a token found by the given string. The
// other string may be missing (see the package doc on digests).
func assertToken(t *testing.T, want, got *oauth2server.Token, by lookup) {
	t.Helper()
	require.NotNil(t, got)
	switch by {
	case byAccess:
		assert.Equal(t, want.AccessToken, got.AccessToken, "AccessToken")
		if got.RefreshToken != "" {
			assert.Equal(t, want.RefreshToken, got.RefreshToken, "RefreshToken")
		}
	case byRefresh:
		assert.Equal(t, want.RefreshToken, got.RefreshToken, "RefreshToken")
		if got.AccessToken != "" {
			assert.Equal(t, want.AccessToken, got.AccessToken, "AccessToken")
		}
	}
	assert.Equal(t, want.ID, got.ID, "ID")
	assertTime(t, want.AccessTokenExpiresAt, got.AccessTokenExpiresAt, "AccessTokenExpiresAt")
	assertTime(t, want.RefreshTokenExpiresAt, got.RefreshTokenExpiresAt, "RefreshTokenExpiresAt")
	assertStrings(t, want.Scope, got.Scope, "Scope")
	assertStrings(t, want.RefreshTokenScope, got.RefreshTokenScope, "RefreshTokenScope")
	assert.Equal(t, want.ClientID, got.ClientID, "ClientID")
	assert.Equal(t, want.UserID, got.UserID, "UserID")
	assert.Equal(t, want.GrantID, got.GrantID, "GrantID")
	assertOpenID(t, want.OpenID, got.OpenID)
	assert.Equal(t, want.Audience, got.Audience, "Audience")
	assert.Equal(t, want.Actor, got.Actor, "Actor")
	// the DPoP binding survives the store, for introspection and
	// the resource server's key check.
	assert.Equal(t, want.DPoPJKT, got.DPoPJKT, "DPoPJKT")
	// the audience and the refresh token's grant of resources.
	assertStrings(t, want.Resources, got.Resources, "Resources")
	assertStrings(t, want.RefreshTokenResources, got.RefreshTokenResources, "RefreshTokenResources")
	assertTime(t, want.IssuedAt, got.IssuedAt, "IssuedAt")
	assert.Equal(t, want.Revoked, got.Revoked, "Revoked")
	assertExtra(t, want.Extra, got.Extra, "Extra")
}

// expiredToken is a full token whose access and refresh tokens have both
// expired: models return such records as stored and leave expiry to the
// Server.
func expiredToken() *oauth2server.Token {
	tok := fullToken()
	tok.IssuedAt = now().Add(-3 * time.Hour)
	tok.AccessTokenExpiresAt = now().Add(-2 * time.Hour)
	tok.RefreshTokenExpiresAt = now().Add(-time.Hour)
	return tok
}

// saveToken saves tok through the mandatory Model and fails the test on
// error.
func saveToken(t *testing.T, s Setup, tok *oauth2server.Token) {
	t.Helper()
	require.NoError(t, s.Model.SaveToken(context.Background(), tok, nil, nil))
}

// getAccess returns the stored record of an access token, failing the test
// when there is none.
func getAccess(t *testing.T, m oauth2server.AccessTokenModel, token string) *oauth2server.Token {
	t.Helper()
	got, err := m.GetAccessToken(context.Background(), token)
	require.NoError(t, err)
	require.NotNil(t, got, "access token not found")
	return got
}

// getRefresh returns the stored record of a refresh token, failing the
// test when there is none.
func getRefresh(t *testing.T, m oauth2server.RefreshTokenModel, token string) *oauth2server.Token {
	t.Helper()
	got, err := m.GetRefreshToken(context.Background(), token)
	require.NoError(t, err)
	require.NotNil(t, got, "refresh token not found")
	return got
}

// assertNotFound checks that looking key up finds nothing and no error, the
// Model convention for "not found".
func assertNotFound(t *testing.T, lookup func(context.Context, string) (*oauth2server.Token, error), key string) {
	t.Helper()
	got, err := lookup(context.Background(), key)
	require.NoError(t, err)
	assert.Nil(t, got)
}

// assertAccessRevoked checks, when the model looks up access tokens, that
// the record of token is revoked.
func assertAccessRevoked(t *testing.T, s Setup, token, msg string) {
	t.Helper()
	if at, ok := oauth2server.Capability[oauth2server.AccessTokenModel](s.Model); ok {
		assert.True(t, getAccess(t, at, token).Revoked, msg)
	}
}

// saveWhileRevokingGrant saves 20 tokens of one new grant family while
// RevokeGrant of that family runs, all at once, and returns the tokens:
// whichever order the store sees, none may outlive the revocation.
func saveWhileRevokingGrant(t *testing.T, s Setup, gm oauth2server.GrantModel) []*oauth2server.Token {
	t.Helper()
	ctx := context.Background()
	grant := random("grant-")
	toks := make([]*oauth2server.Token, 20)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range toks {
		toks[i] = fullToken()
		toks[i].GrantID = grant
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			assert.NoError(t, s.Model.SaveToken(ctx, toks[i], nil, nil))
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		start.Wait()
		assert.NoError(t, gm.RevokeGrant(ctx, grant))
	}()
	start.Done()
	wg.Wait()
	return toks
}

// saveFirstWhileRevokingGrant races, in each of 20 new grant families, the
// save of the family's first token against RevokeGrant of that family, and
// returns the tokens. A model may save a family's first token more cheaply
// than a later one (no revocation of a family nobody has seen can have
// begun before its first save), so this race is tested on its own.
func saveFirstWhileRevokingGrant(t *testing.T, s Setup, gm oauth2server.GrantModel, newToken func() *oauth2server.Token) []*oauth2server.Token {
	t.Helper()
	ctx := context.Background()
	toks := make([]*oauth2server.Token, 20)
	for i := range toks {
		toks[i] = newToken()
		var start, wg sync.WaitGroup
		start.Add(1)
		wg.Add(2)
		go func() {
			defer wg.Done()
			start.Wait()
			assert.NoError(t, s.Model.SaveToken(ctx, toks[i], nil, nil))
		}()
		go func() {
			defer wg.Done()
			start.Wait()
			assert.NoError(t, gm.RevokeGrant(ctx, toks[i].GrantID))
		}()
		start.Done()
		wg.Wait()
	}
	return toks
}

// testTokens checks [oauth2server.Model.SaveToken] on its own; the
// capabilities that read tokens back check what it stored.
func testTokens(t *testing.T, newSetup func(t *testing.T) Setup) {
	ctx := context.Background()

	t.Run("ok, SaveToken stores tokens with and without refresh token", func(t *testing.T) {
		s := newSetup(t)
		require.NoError(t, s.Model.SaveToken(ctx, fullToken(), nil, nil))
		require.NoError(t, s.Model.SaveToken(ctx, accessOnlyToken(), nil, nil))
	})

	t.Run("nok, SaveToken with a cancelled context stores nothing", func(t *testing.T) {
		s := newSetup(t)
		tok := fullToken()
		require.Error(t, s.Model.SaveToken(cancelled(), tok, nil, nil))
		if at, ok := oauth2server.Capability[oauth2server.AccessTokenModel](s.Model); ok {
			got, err := at.GetAccessToken(ctx, tok.AccessToken)
			require.NoError(t, err)
			assert.Nil(t, got)
		}
	})
}

// testAccessTokens checks [oauth2server.AccessTokenModel].
func testAccessTokens(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.AccessTokenModel](t, newSetup, "AccessTokenModel")
	setup := func(t *testing.T) (Setup, oauth2server.AccessTokenModel) {
		s := newSetup(t)
		return s, need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
	}

	t.Run("ok, token round trip by access token", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		saveToken(t, s, want)
		assertToken(t, want, getAccess(t, m, want.AccessToken), byAccess)
	})

	t.Run("ok, access-only token round trip", func(t *testing.T) {
		s, m := setup(t)
		want := accessOnlyToken()
		saveToken(t, s, want)
		got := getAccess(t, m, want.AccessToken)
		assertToken(t, want, got, byAccess)
		assert.Empty(t, got.RefreshToken)
	})

	t.Run("ok, unknown access token is nil", func(t *testing.T) {
		s, m := setup(t)
		saveToken(t, s, fullToken())
		assertNotFound(t, m.GetAccessToken, "no-such-token")
	})

	t.Run("ok, refresh token is not an access token", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		saveToken(t, s, tok)
		assertNotFound(t, m.GetAccessToken, tok.RefreshToken)
	})

	t.Run("ok, expired token is returned as stored", func(t *testing.T) {
		s, m := setup(t)
		want := expiredToken()
		saveToken(t, s, want)
		assertToken(t, want, getAccess(t, m, want.AccessToken), byAccess)
	})

	t.Run("ok, token saved revoked stays revoked", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		want.Revoked = true
		saveToken(t, s, want)
		assertToken(t, want, getAccess(t, m, want.AccessToken), byAccess)
	})

	t.Run("ok, changing the saved token afterwards does not change the store", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		saved := copyToken(want)
		saveToken(t, s, saved)
		mutateToken(saved)
		assertToken(t, want, getAccess(t, m, want.AccessToken), byAccess)
	})

	t.Run("ok, changing a returned token does not change the store", func(t *testing.T) {
		// The Server fills in and passes on the Tokens it reads; a model
		// that hands out what it stores would let that change its state.
		s, m := setup(t)
		want := fullToken()
		saveToken(t, s, copyToken(want))
		mutateToken(getAccess(t, m, want.AccessToken))
		assertToken(t, want, getAccess(t, m, want.AccessToken), byAccess)
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		saveToken(t, s, tok)
		got, err := m.GetAccessToken(cancelled(), tok.AccessToken)
		assert.Error(t, err)
		assert.Nil(t, got)
	})
}
