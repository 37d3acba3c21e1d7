package oauth2server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func TestGrantManagement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := memorymodel.New()
	var events []oauth2server.Event
	srv, err := oauth2server.New(m, oauth2server.Options{
		OnEvent: func(_ context.Context, e oauth2server.Event) { events = append(events, e) },
	})
	require.NoError(t, err)
	now := time.Now()
	save := func(client, grant string, at time.Time, scope ...string) {
		require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: grant + "-at", AccessTokenExpiresAt: now.Add(time.Hour),
			ClientID: client, UserID: "alice", GrantID: grant, IssuedAt: at, Scope: scope}, nil, nil))
	}
	save("app", "g1", now.Add(-2*time.Hour), "read")
	save("app", "g2", now.Add(-time.Minute), "write")
	require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ClientID: "app", UserID: "alice", Scope: []string{"read", "profile"}, GrantedAt: now}))
	require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ClientID: "consent-only", UserID: "alice", Scope: []string{"read"}, GrantedAt: now}))

	list, err := srv.ListAuthorizations(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 2)
	app := list[0]
	assert.Equal(t, "app", app.ClientID)
	assert.ElementsMatch(t, []string{"read", "profile", "write"}, app.Scope)
	assert.Equal(t, []string{"g1", "g2"}, app.GrantIDs, "oldest family first")
	assert.WithinDuration(t, now.Add(-2*time.Hour), app.FirstUsed, 0)
	assert.WithinDuration(t, now.Add(-time.Minute), app.LastUsed, 0)
	require.NotNil(t, app.Consent)
	assert.Equal(t, "consent-only", list[1].ClientID)
	assert.Empty(t, list[1].GrantIDs)
	assert.True(t, list[1].FirstUsed.IsZero())

	require.NoError(t, srv.RevokeAuthorization(ctx, "alice", "app"))
	got, err := m.GetAccessToken(ctx, "g2-at")
	require.NoError(t, err)
	assert.True(t, got.Revoked)
	c, err := m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	assert.Nil(t, c)
	require.Len(t, events, 1)
	assert.Equal(t, oauth2server.EventConsentRevoked, events[0].Kind)
	assert.Equal(t, "alice", events[0].UserID)
	assert.Equal(t, "app", events[0].ClientID)

	require.NoError(t, srv.RevokeAllForUser(ctx, "alice"))
	list, err = srv.ListAuthorizations(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
	assert.Len(t, events, 2)

	assert.Error(t, srv.RevokeAuthorization(ctx, "", "app"), "ids are required")
	assert.Error(t, srv.RevokeAllForClient(ctx, ""))
	_, err = srv.ListAuthorizations(ctx, "")
	assert.Error(t, err)
}
