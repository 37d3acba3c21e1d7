package memorymodel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func TestConsentRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := memorymodel.New()

	got, err := m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	assert.Nil(t, got, "unknown consent is (nil, nil)")

	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	in := &oauth2server.Consent{ClientID: "app", UserID: "alice", Scope: []string{"read"}, GrantedAt: at}
	require.NoError(t, m.SaveConsent(ctx, in))
	in.Scope[0] = "changed" // the model keeps its own copy

	got, err = m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.NotEmpty(t, got.ID, "a consent saved without an id gets one")
	assert.Equal(t, &oauth2server.Consent{ID: got.ID, ClientID: "app", UserID: "alice", Scope: []string{"read"}, GrantedAt: at}, got)
	got.Scope[0] = "changed" // and hands out copies
	again, err := m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"read"}, again.Scope)

	other, err := m.FindConsent(ctx, "app", "bob")
	require.NoError(t, err)
	assert.Nil(t, other, "consent is per user")
	other, err = m.FindConsent(ctx, "other-app", "alice")
	require.NoError(t, err)
	assert.Nil(t, other, "consent is per client")

	require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ClientID: "app", UserID: "alice", Scope: []string{"read", "write"}, GrantedAt: at}))
	got, err = m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"read", "write"}, got.Scope, "save replaces")

	require.NoError(t, m.RevokeConsent(ctx, "app", "alice"))
	got, err = m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	assert.Nil(t, got)
	require.NoError(t, m.RevokeConsent(ctx, "app", "alice"), "revoking twice is fine")
}

func TestConsentErrors(t *testing.T) {
	m := memorymodel.New()
	var testCases = []struct {
		name  string
		given *oauth2server.Consent
	}{
		{name: "nok, nil consent", given: nil},
		{name: "nok, no client id", given: &oauth2server.Consent{UserID: "alice"}},
		{name: "nok, no user id", given: &oauth2server.Consent{ClientID: "app"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Error(t, m.SaveConsent(context.Background(), tc.given))
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.FindConsent(ctx, "app", "alice")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, m.SaveConsent(ctx, &oauth2server.Consent{ClientID: "app", UserID: "alice"}), context.Canceled)
	assert.ErrorIs(t, m.RevokeConsent(ctx, "app", "alice"), context.Canceled)
}
