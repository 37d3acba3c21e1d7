package modeltest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// fullPushed is a pushed authorization request with every field set.
func fullPushed() *oauth2server.PushedAuthorizationRequest {
	n := now()
	clientID := random("client-")
	return &oauth2server.PushedAuthorizationRequest{
		RequestURI: oauth2server.RequestURIPrefix + random(""),
		ClientID:   clientID,
		Parameters: "client_id=" + clientID + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" +
			"&code_challenge_method=S256&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code" +
			"&scope=read+write&state=%24%7Bx%7D.%C3%A9",
		IssuedAt:  n,
		ExpiresAt: n.Add(time.Minute),
	}
}

// assertPushed checks every field of a pushed request.
func assertPushed(t *testing.T, want, got *oauth2server.PushedAuthorizationRequest) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.RequestURI, got.RequestURI, "RequestURI")
	assert.Equal(t, want.ClientID, got.ClientID, "ClientID")
	assert.Equal(t, want.Parameters, got.Parameters, "Parameters")
	assertTime(t, want.IssuedAt, got.IssuedAt, "IssuedAt")
	assertTime(t, want.ExpiresAt, got.ExpiresAt, "ExpiresAt")
}

// testPushedRequests checks [oauth2server.PushedAuthorizationRequestModel].
func testPushedRequests(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.PushedAuthorizationRequestModel](t, newSetup, "PushedAuthorizationRequestModel")
	ctx := context.Background()
	setup := func(t *testing.T) oauth2server.PushedAuthorizationRequestModel {
		return need[oauth2server.PushedAuthorizationRequestModel](t, newSetup(t), "PushedAuthorizationRequestModel")
	}
	get := func(t *testing.T, m oauth2server.PushedAuthorizationRequestModel, uri string) *oauth2server.PushedAuthorizationRequest {
		t.Helper()
		got, err := m.GetPushedAuthorizationRequest(ctx, uri)
		require.NoError(t, err)
		return got
	}

	t.Run("ok, pushed request round trip", func(t *testing.T) {
		// the validated parameters come back byte for byte.
		m := setup(t)
		want := fullPushed()
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, want))
		assertPushed(t, want, get(t, m, want.RequestURI))
	})

	t.Run("ok, the store keeps its own copy", func(t *testing.T) {
		m := setup(t)
		want := fullPushed()
		saved := *want
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, &saved))
		saved.ClientID, saved.Parameters = "changed", "client_id=changed"
		got := get(t, m, want.RequestURI)
		assertPushed(t, want, got)
		got.ClientID = "changed"
		assertPushed(t, want, get(t, m, want.RequestURI))
	})

	t.Run("ok, unknown request_uri is nil", func(t *testing.T) {
		m := setup(t)
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, fullPushed()))
		assert.Nil(t, get(t, m, oauth2server.RequestURIPrefix+"unknown"))
	})

	t.Run("ok, expired request is returned as stored", func(t *testing.T) {
		// the Server checks ExpiresAt itself.
		m := setup(t)
		want := fullPushed()
		want.IssuedAt, want.ExpiresAt = now().Add(-2*time.Minute), now().Add(-time.Minute)
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, want))
		assertPushed(t, want, get(t, m, want.RequestURI))
	})

	t.Run("ok, consumed once, then gone", func(t *testing.T) {
		// single use.
		m := setup(t)
		want := fullPushed()
		other := fullPushed()
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, want))
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, other))
		ok, err := m.ConsumePushedAuthorizationRequest(ctx, want.RequestURI)
		require.NoError(t, err)
		assert.True(t, ok, "first consumption")
		ok, err = m.ConsumePushedAuthorizationRequest(ctx, want.RequestURI)
		require.NoError(t, err)
		assert.False(t, ok, "second consumption")
		assert.Nil(t, get(t, m, want.RequestURI), "a consumed request is not returned")
		assertPushed(t, other, get(t, m, other.RequestURI))
	})

	t.Run("ok, consuming an unknown request_uri reports false", func(t *testing.T) {
		m := setup(t)
		ok, err := m.ConsumePushedAuthorizationRequest(ctx, oauth2server.RequestURIPrefix+"unknown")
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("ok, concurrent consumptions: exactly one true", func(t *testing.T) {
		// of racing decisions on one pushed request, one wins.
		m := setup(t)
		want := fullPushed()
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, want))
		wins := race(t, func() (bool, error) {
			return m.ConsumePushedAuthorizationRequest(ctx, want.RequestURI)
		})
		assert.EqualValues(t, 1, wins)
		assert.Nil(t, get(t, m, want.RequestURI))
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		m := setup(t)
		want := fullPushed()
		require.Error(t, m.SavePushedAuthorizationRequest(cancelled(), want), "SavePushedAuthorizationRequest")
		assert.Nil(t, get(t, m, want.RequestURI), "nothing stored")
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, want))
		got, err := m.GetPushedAuthorizationRequest(cancelled(), want.RequestURI)
		assert.Error(t, err, "GetPushedAuthorizationRequest")
		assert.Nil(t, got)
		ok, err := m.ConsumePushedAuthorizationRequest(cancelled(), want.RequestURI)
		assert.Error(t, err, "ConsumePushedAuthorizationRequest")
		assert.False(t, ok)
		assertPushed(t, want, get(t, m, want.RequestURI))
	})
}
