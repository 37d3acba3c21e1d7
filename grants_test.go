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

// noLookup is a model with consents and grant management but without
// ConsentLookupModel, as models written before consent ids are.
type noLookup struct {
	oauth2server.Model
	oauth2server.AccessTokenModel
	oauth2server.ConsentModel
	oauth2server.GrantListModel
	oauth2server.GrantModel
}

// expiredLookup returns every consent as expired, as a model that does not
// filter on the clock may.
type expiredLookup struct {
	*memorymodel.Model
}

func (e expiredLookup) GetConsentByID(ctx context.Context, id string) (*oauth2server.Consent, error) {
	c, err := e.Model.GetConsentByID(ctx, id)
	if c != nil {
		c.ExpiresAt = time.Unix(1, 0)
	}
	return c, err
}

func TestFindConsentByID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	m := memorymodel.New()
	live := &oauth2server.Consent{ID: oauth2server.NewConsentID(), ClientID: "app", UserID: "alice",
		Scope: []string{"read"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, m.SaveConsent(ctx, live))
	srv, err := oauth2server.New(m, oauth2server.Options{})
	require.NoError(t, err)
	stale, err := oauth2server.New(expiredLookup{m}, oauth2server.Options{})
	require.NoError(t, err)
	without, err := oauth2server.New(noLookup{m, m, m, m, m}, oauth2server.Options{})
	require.NoError(t, err)

	var testCases = []struct {
		name          string
		givenServer   *oauth2server.Server
		whenID        string
		expectConsent bool
		expectError   string
	}{
		{name: "ok, found", givenServer: srv, whenID: live.ID, expectConsent: true},
		{name: "ok, unknown id is nil", givenServer: srv, whenID: oauth2server.NewConsentID()},
		{name: "ok, an expired consent the model returns is nil", givenServer: stale, whenID: live.ID},
		{name: "nok, empty id", givenServer: srv, whenID: "", expectError: "id is empty"},
		{name: "nok, model without ConsentLookupModel", givenServer: without, whenID: live.ID,
			expectError: "find consent needs ConsentLookupModel"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.givenServer.FindConsentByID(ctx, tc.whenID)
			if tc.expectError != "" {
				assert.ErrorContains(t, err, tc.expectError)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			if !tc.expectConsent {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, live.ID, got.ID)
			assert.Equal(t, "alice", got.UserID)
			assert.Equal(t, []string{"read"}, got.Scope)
		})
	}
}

func TestRevokeConsentByID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	setup := func(t *testing.T, wrap func(*memorymodel.Model) oauth2server.Model) (*memorymodel.Model, *oauth2server.Server, *[]oauth2server.Event) {
		m := memorymodel.New()
		events := &[]oauth2server.Event{}
		srv, err := oauth2server.New(wrap(m), oauth2server.Options{
			OnEvent: func(_ context.Context, e oauth2server.Event) { *events = append(*events, e) },
		})
		require.NoError(t, err)
		for _, tok := range []*oauth2server.Token{
			{AccessToken: "mine-1", ClientID: "app", UserID: "alice", GrantID: "g1", Scope: []string{"read"}},
			{AccessToken: "mine-2", ClientID: "app", UserID: "alice", GrantID: "g2", Scope: []string{"write"}},
			{AccessToken: "other-client", ClientID: "other", UserID: "alice", GrantID: "g3", Scope: []string{"read"}},
			{AccessToken: "other-user", ClientID: "app", UserID: "bob", GrantID: "g4", Scope: []string{"read"}},
		} {
			tok.AccessTokenExpiresAt, tok.IssuedAt = now.Add(time.Hour), now
			require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
		}
		return m, srv, events
	}
	revoked := func(t *testing.T, m *memorymodel.Model, access string) bool {
		tok, err := m.GetAccessToken(ctx, access)
		require.NoError(t, err)
		require.NotNil(t, tok)
		return tok.Revoked
	}
	plain := func(m *memorymodel.Model) oauth2server.Model { return m }

	t.Run("ok, revokes the consent and the families of its user and client", func(t *testing.T) {
		m, srv, events := setup(t, plain)
		c := &oauth2server.Consent{ClientID: "app", UserID: "alice", Scope: []string{"read", "profile"}, GrantedAt: now}
		require.NoError(t, m.SaveConsent(ctx, c))
		saved, err := m.FindConsent(ctx, "app", "alice")
		require.NoError(t, err)
		require.NotEmpty(t, saved.ID)

		got, err := srv.RevokeConsentByID(ctx, saved.ID)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, saved.ID, got.ID)
		assert.Equal(t, "app", got.ClientID)
		assert.True(t, revoked(t, m, "mine-1"))
		assert.True(t, revoked(t, m, "mine-2"))
		assert.False(t, revoked(t, m, "other-client"))
		assert.False(t, revoked(t, m, "other-user"))
		gone, err := m.FindConsent(ctx, "app", "alice")
		require.NoError(t, err)
		assert.Nil(t, gone)
		found, err := srv.FindConsentByID(ctx, saved.ID)
		require.NoError(t, err)
		assert.Nil(t, found)

		require.Len(t, *events, 1)
		e := (*events)[0]
		assert.Equal(t, oauth2server.EventConsentRevoked, e.Kind)
		assert.Equal(t, "alice", e.UserID)
		assert.Equal(t, "app", e.ClientID)
		assert.ElementsMatch(t, []string{"read", "profile", "write"}, e.Scope, "the consent's scope and the families'")
	})

	t.Run("ok, unknown or expired id revokes nothing", func(t *testing.T) {
		m, srv, events := setup(t, plain)
		expired := &oauth2server.Consent{ID: oauth2server.NewConsentID(), ClientID: "app", UserID: "alice",
			Scope: []string{"read"}, GrantedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
		require.NoError(t, m.SaveConsent(ctx, expired))
		for _, id := range []string{oauth2server.NewConsentID(), expired.ID} {
			got, err := srv.RevokeConsentByID(ctx, id)
			require.NoError(t, err)
			assert.Nil(t, got)
		}
		assert.False(t, revoked(t, m, "mine-1"))
		assert.Empty(t, *events)
	})

	t.Run("nok, model without ConsentLookupModel", func(t *testing.T) {
		m, srv, events := setup(t, func(m *memorymodel.Model) oauth2server.Model { return noLookup{m, m, m, m, m} })
		require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ID: "known", ClientID: "app", UserID: "alice", Scope: []string{"read"}}))
		got, err := srv.RevokeConsentByID(ctx, "known")
		assert.ErrorContains(t, err, "needs ConsentLookupModel")
		assert.Nil(t, got)
		assert.False(t, revoked(t, m, "mine-1"))
		assert.Empty(t, *events)
	})

	t.Run("nok, empty id and cancelled context", func(t *testing.T) {
		m, srv, _ := setup(t, plain)
		_, err := srv.RevokeConsentByID(ctx, "")
		assert.ErrorContains(t, err, "id is empty")
		require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ID: "known", ClientID: "app", UserID: "alice", Scope: []string{"read"}}))
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = srv.RevokeConsentByID(cancelled, "known")
		assert.Error(t, err)
		assert.False(t, revoked(t, m, "mine-1"))
	})
}

// ListAuthorizations names each consent by its id, and leaves out an
// expired consent even when the model returns it.
func TestListAuthorizationsConsentIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	m := memorymodel.New()
	require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ID: "live-id", ClientID: "app", UserID: "alice",
		Scope: []string{"read"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}))
	require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ID: "lapsing-id", ClientID: "lapsing", UserID: "alice",
		Scope: []string{"read"}, GrantedAt: now, ExpiresAt: now.Add(time.Minute)}))
	// The server's clock is past the second consent's expiry; the model's
	// is not, so the model still lists it.
	srv, err := oauth2server.New(m, oauth2server.Options{Now: func() time.Time { return now.Add(30 * time.Minute) }})
	require.NoError(t, err)
	list, err := srv.ListAuthorizations(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].Consent)
	assert.Equal(t, "live-id", list[0].Consent.ID)
}
