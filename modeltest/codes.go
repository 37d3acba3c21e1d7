package modeltest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// fullCode is an authorization code with every field set, PKCE included.
func fullCode() *oauth2server.AuthorizationCode {
	n := now()
	return &oauth2server.AuthorizationCode{
		Code:                random("code-"),
		ExpiresAt:           n.Add(time.Minute),
		RedirectURI:         "https://app.example/cb?x=1",
		Scope:               []string{"read", "write"},
		ClientID:            random("client-"),
		UserID:              random("user-"),
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: oauth2server.PKCEMethodS256,
		GrantID:             random("grant-"),
		IssuedAt:            n,
		OpenID:              openIDSession(true),
		DPoPJKT:             "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		Resources:           []string{"https://api.example/orders", "urn:example:ledger"},
		Extra:               extra(),
	}
}

// assertCode checks every field of a code.
func assertCode(t *testing.T, want, got *oauth2server.AuthorizationCode) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.Code, got.Code, "Code")
	assertTime(t, want.ExpiresAt, got.ExpiresAt, "ExpiresAt")
	assert.Equal(t, want.RedirectURI, got.RedirectURI, "RedirectURI")
	assertStrings(t, want.Scope, got.Scope, "Scope")
	assert.Equal(t, want.ClientID, got.ClientID, "ClientID")
	assert.Equal(t, want.UserID, got.UserID, "UserID")
	assert.Equal(t, want.CodeChallenge, got.CodeChallenge, "CodeChallenge")
	assert.Equal(t, want.CodeChallengeMethod, got.CodeChallengeMethod, "CodeChallengeMethod")
	assert.Equal(t, want.GrantID, got.GrantID, "GrantID")
	assertTime(t, want.IssuedAt, got.IssuedAt, "IssuedAt")
	assert.Equal(t, want.Revoked, got.Revoked, "Revoked")
	assertOpenID(t, want.OpenID, got.OpenID)
	assert.Equal(t, want.DPoPJKT, got.DPoPJKT, "DPoPJKT (R-177)")
	assertStrings(t, want.Resources, got.Resources, "Resources (R-183)")
	assertExtra(t, want.Extra, got.Extra, "Extra")
}

// testAuthorizationCodes checks [oauth2server.AuthorizationCodeModel].
func testAuthorizationCodes(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.AuthorizationCodeModel](t, newSetup, "AuthorizationCodeModel")
	ctx := context.Background()
	setup := func(t *testing.T) oauth2server.AuthorizationCodeModel {
		return need[oauth2server.AuthorizationCodeModel](t, newSetup(t), "AuthorizationCodeModel")
	}
	get := func(t *testing.T, m oauth2server.AuthorizationCodeModel, code string) *oauth2server.AuthorizationCode {
		t.Helper()
		got, err := m.GetAuthorizationCode(ctx, code)
		require.NoError(t, err)
		require.NotNil(t, got, "code not found")
		return got
	}

	t.Run("ok, code round trip with PKCE", func(t *testing.T) {
		// the challenge and its method are stored with the code.
		m := setup(t)
		want := fullCode()
		require.NoError(t, m.SaveAuthorizationCode(ctx, want, nil, nil))
		assertCode(t, want, get(t, m, want.Code))
	})

	t.Run("ok, code without PKCE, redirect URI or user", func(t *testing.T) {
		m := setup(t)
		want := fullCode()
		want.CodeChallenge, want.CodeChallengeMethod, want.RedirectURI, want.UserID, want.Extra = "", "", "", "", nil
		require.NoError(t, m.SaveAuthorizationCode(ctx, want, nil, nil))
		assertCode(t, want, get(t, m, want.Code))
	})

	t.Run("ok, the store keeps its own copy of a code", func(t *testing.T) {
		// neither the caller that saved a code nor one that read it
		// can change its challenge, redirect URI or scope afterwards.
		m := setup(t)
		want := fullCode()
		saved := *want
		saved.Scope, saved.Extra = slices.Clone(want.Scope), maps.Clone(want.Extra)
		saved.OpenID = want.OpenID.Clone()
		saved.Resources = slices.Clone(want.Resources)
		require.NoError(t, m.SaveAuthorizationCode(ctx, &saved, nil, nil))
		mutate := func(c *oauth2server.AuthorizationCode) {
			c.Scope[0] = "admin"
			c.Resources[0] = "https://evil.example/"
			c.CodeChallenge, c.RedirectURI, c.ClientID = "changed", "https://evil.example/", "changed"
			c.Revoked = true
			c.Extra["tenant"] = "changed"
			c.OpenID.Nonce, c.OpenID.AMR[0] = "changed", "changed"
		}
		mutate(&saved)
		got := get(t, m, want.Code)
		assertCode(t, want, got)
		mutate(got)
		assertCode(t, want, get(t, m, want.Code))
	})

	t.Run("ok, unknown code is nil", func(t *testing.T) {
		m := setup(t)
		require.NoError(t, m.SaveAuthorizationCode(ctx, fullCode(), nil, nil))
		got, err := m.GetAuthorizationCode(ctx, "no-such-code")
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, expired code is returned as stored", func(t *testing.T) {
		m := setup(t)
		want := fullCode()
		want.IssuedAt = now().Add(-2 * time.Minute)
		want.ExpiresAt = now().Add(-time.Minute)
		require.NoError(t, m.SaveAuthorizationCode(ctx, want, nil, nil))
		assertCode(t, want, get(t, m, want.Code))
	})

	t.Run("ok, RevokeAuthorizationCode reports true once, then false", func(t *testing.T) {
		// a code is used once.
		m := setup(t)
		code := fullCode()
		require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
		ok, err := m.RevokeAuthorizationCode(ctx, get(t, m, code.Code))
		require.NoError(t, err)
		assert.True(t, ok, "first")
		ok, err = m.RevokeAuthorizationCode(ctx, get(t, m, code.Code))
		require.NoError(t, err)
		assert.False(t, ok, "second")
	})

	t.Run("ok, a redeemed code is returned with Revoked set", func(t *testing.T) {
		// a replay is detected, so the code stays visible.
		m := setup(t)
		code := fullCode()
		require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
		ok, err := m.RevokeAuthorizationCode(ctx, code)
		require.NoError(t, err)
		require.True(t, ok)
		want := *code
		want.Revoked = true
		assertCode(t, &want, get(t, m, code.Code))
	})

	t.Run("ok, RevokeAuthorizationCode of an unknown code is false", func(t *testing.T) {
		m := setup(t)
		require.NoError(t, m.SaveAuthorizationCode(ctx, fullCode(), nil, nil))
		ok, err := m.RevokeAuthorizationCode(ctx, fullCode())
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("ok, concurrent redemptions: exactly one true", func(t *testing.T) {
		// of racing redemptions of one code exactly one wins.
		m := setup(t)
		code := fullCode()
		require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
		rec := get(t, m, code.Code)
		wins := race(t, func() (bool, error) {
			cp := *rec
			return m.RevokeAuthorizationCode(ctx, &cp)
		})
		assert.EqualValues(t, 1, wins)
		assert.True(t, get(t, m, code.Code).Revoked)
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		m := setup(t)
		code := fullCode()
		require.Error(t, m.SaveAuthorizationCode(cancelled(), code, nil, nil), "SaveAuthorizationCode")
		got, err := m.GetAuthorizationCode(ctx, code.Code)
		require.NoError(t, err)
		assert.Nil(t, got, "nothing stored")
		require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
		got, err = m.GetAuthorizationCode(cancelled(), code.Code)
		assert.Error(t, err, "GetAuthorizationCode")
		assert.Nil(t, got)
		ok, err := m.RevokeAuthorizationCode(cancelled(), code)
		assert.Error(t, err, "RevokeAuthorizationCode")
		assert.False(t, ok)
		assert.False(t, get(t, m, code.Code).Revoked, "not redeemed")
	})
}
