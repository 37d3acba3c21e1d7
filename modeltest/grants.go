package modeltest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// grantsOf returns the families ListGrants finds, by grant ID.
func grantsOf(t *testing.T, m oauth2server.GrantListModel, userID, clientID string) map[string]oauth2server.GrantInfo {
	t.Helper()
	list, err := m.ListGrants(context.Background(), userID, clientID)
	require.NoError(t, err)
	out := map[string]oauth2server.GrantInfo{}
	for _, g := range list {
		_, dup := out[g.GrantID]
		assert.False(t, dup, "family %s listed twice", g.GrantID)
		out[g.GrantID] = g
	}
	return out
}

// testGrantLists checks [oauth2server.GrantListModel].
func testGrantLists(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.GrantListModel](t, newSetup, "GrantListModel")
	ctx := context.Background()
	store := func(t *testing.T) (Setup, oauth2server.GrantListModel) {
		s := newSetup(t)
		return s, need[oauth2server.GrantListModel](t, s, "GrantListModel")
	}
	// token is a live token of the family, issued at.
	token := func(user, client, grant string, at time.Time, scope ...string) *oauth2server.Token {
		tok := fullToken()
		tok.UserID, tok.ClientID, tok.GrantID, tok.IssuedAt = user, client, grant, at
		tok.Scope, tok.RefreshTokenScope = scope, nil
		return tok
	}

	t.Run("ok, a family lists with its scopes and first and last issue", func(t *testing.T) {
		s, m := store(t)
		user, client, grant := random("user-"), random("client-"), random("grant-")
		first := now().Add(-time.Hour)
		rotated := token(user, client, grant, first, "read")
		rotated.Revoked = true // spent by a refresh
		saveToken(t, s, rotated)
		last := token(user, client, grant, first.Add(30*time.Minute), "read")
		last.RefreshTokenScope = []string{"read", "write"}
		saveToken(t, s, last)

		got := grantsOf(t, m, user, "")
		require.Contains(t, got, grant)
		g := got[grant]
		assert.Equal(t, client, g.ClientID)
		assert.Equal(t, user, g.UserID)
		assert.ElementsMatch(t, []string{"read", "write"}, g.Scope)
		assertTime(t, first, g.FirstIssuedAt, "FirstIssuedAt")
		assertTime(t, last.IssuedAt, g.LastIssuedAt, "LastIssuedAt")
		assert.Len(t, got, 1)
	})

	t.Run("ok, by user, by client, by both; others stay out", func(t *testing.T) {
		s, m := store(t)
		user, client := random("user-"), random("client-")
		mine := random("grant-")
		saveToken(t, s, token(user, client, mine, now(), "read"))
		otherClient := random("grant-")
		saveToken(t, s, token(user, random("client-"), otherClient, now(), "read"))
		otherUser := random("grant-")
		saveToken(t, s, token(random("user-"), client, otherUser, now(), "read"))
		noUser := random("grant-")
		saveToken(t, s, token("", client, noUser, now(), "read"))
		saveToken(t, s, token(random("user-"), random("client-"), random("grant-"), now(), "read"))

		assert.ElementsMatch(t, []string{mine, otherClient}, keys(grantsOf(t, m, user, "")), "by user")
		assert.ElementsMatch(t, []string{mine, otherUser, noUser}, keys(grantsOf(t, m, "", client)), "by client")
		assert.ElementsMatch(t, []string{mine}, keys(grantsOf(t, m, user, client)), "by both")
		assert.Empty(t, grantsOf(t, m, random("user-"), ""), "unknown user")
	})

	t.Run("ok, a family with only a pending code lists", func(t *testing.T) {
		s, m := store(t)
		codes := need[oauth2server.AuthorizationCodeModel](t, s, "AuthorizationCodeModel")
		c := fullCode()
		require.NoError(t, codes.SaveAuthorizationCode(ctx, c, nil, nil))
		got := grantsOf(t, m, c.UserID, c.ClientID)
		require.Contains(t, got, c.GrantID)
		assert.ElementsMatch(t, c.Scope, got[c.GrantID].Scope)
	})

	t.Run("ok, revoked and expired families do not list", func(t *testing.T) {
		s, m := store(t)
		gm := family(t, s)
		user, client := random("user-"), random("client-")
		revoked := random("grant-")
		saveToken(t, s, token(user, client, revoked, now(), "read"))
		require.NoError(t, gm.RevokeGrant(ctx, revoked))
		expired := expiredToken()
		expired.UserID, expired.ClientID = user, client
		saveToken(t, s, expired)
		live := random("grant-")
		saveToken(t, s, token(user, client, live, now(), "read"))
		assert.Equal(t, []string{live}, keys(grantsOf(t, m, user, client)))
	})

	t.Run("ok, returned values are copies", func(t *testing.T) {
		s, m := store(t)
		tok := token(random("user-"), random("client-"), random("grant-"), now(), "read")
		saveToken(t, s, tok)
		got := grantsOf(t, m, tok.UserID, "")[tok.GrantID]
		require.NotEmpty(t, got.Scope)
		got.Scope[0] = "admin"
		assert.Equal(t, []string{"read"}, grantsOf(t, m, tok.UserID, "")[tok.GrantID].Scope)
	})

	t.Run("nok, neither user nor client is an error", func(t *testing.T) {
		_, m := store(t)
		_, err := m.ListGrants(ctx, "", "")
		assert.Error(t, err)
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		_, m := store(t)
		_, err := m.ListGrants(cancelled(), random("user-"), "")
		assert.Error(t, err)
	})
}

// testConsentLists checks [oauth2server.ConsentListModel].
func testConsentLists(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.ConsentListModel](t, newSetup, "ConsentListModel")
	ctx := context.Background()
	store := func(t *testing.T) (oauth2server.ConsentModel, oauth2server.ConsentListModel) {
		s := newSetup(t)
		return need[oauth2server.ConsentModel](t, s, "ConsentModel"), need[oauth2server.ConsentListModel](t, s, "ConsentListModel")
	}
	ids := func(t *testing.T, m oauth2server.ConsentListModel, userID, clientID string) []string {
		t.Helper()
		list, err := m.ListConsents(ctx, userID, clientID)
		require.NoError(t, err)
		var out []string
		for _, c := range list {
			out = append(out, c.UserID+" "+c.ClientID)
		}
		return out
	}

	t.Run("ok, by user, by client, by both; revoked ones are gone", func(t *testing.T) {
		cm, m := store(t)
		user, client := random("user-"), random("client-")
		other := random("client-")
		at := now()
		for _, c := range []*oauth2server.Consent{
			{UserID: user, ClientID: client, Scope: []string{"read"}, GrantedAt: at},
			{UserID: user, ClientID: other, Scope: []string{"read"}, GrantedAt: at},
			{UserID: random("user-"), ClientID: random("client-"), Scope: []string{"read"}, GrantedAt: at},
		} {
			require.NoError(t, cm.SaveConsent(ctx, c))
		}
		assert.ElementsMatch(t, []string{user + " " + client, user + " " + other}, ids(t, m, user, ""))
		assert.ElementsMatch(t, []string{user + " " + client}, ids(t, m, "", client))
		assert.ElementsMatch(t, []string{user + " " + client}, ids(t, m, user, client))

		list, err := m.ListConsents(ctx, user, client)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, []string{"read"}, list[0].Scope)
		assertTime(t, at, list[0].GrantedAt, "GrantedAt")

		require.NoError(t, cm.RevokeConsent(ctx, client, user))
		assert.ElementsMatch(t, []string{user + " " + other}, ids(t, m, user, ""))
	})

	t.Run("ok, expired consents are not listed", func(t *testing.T) {
		cm, m := store(t)
		user := random("user-")
		live := &oauth2server.Consent{UserID: user, ClientID: random("client-"), Scope: []string{"read"},
			GrantedAt: now(), ExpiresAt: now().Add(time.Hour)}
		expired := &oauth2server.Consent{UserID: user, ClientID: random("client-"), Scope: []string{"read"},
			GrantedAt: now(), ExpiresAt: now().Add(-time.Minute)}
		require.NoError(t, cm.SaveConsent(ctx, live))
		require.NoError(t, cm.SaveConsent(ctx, expired))
		assert.Equal(t, []string{user + " " + live.ClientID}, ids(t, m, user, ""))
		assert.Empty(t, ids(t, m, "", expired.ClientID))
		list, err := m.ListConsents(ctx, user, live.ClientID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assertTime(t, live.ExpiresAt, list[0].ExpiresAt, "ExpiresAt")
	})

	t.Run("nok, neither user nor client is an error", func(t *testing.T) {
		_, m := store(t)
		_, err := m.ListConsents(ctx, "", "")
		assert.Error(t, err)
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		_, m := store(t)
		_, err := m.ListConsents(cancelled(), random("user-"), "")
		assert.Error(t, err)
	})
}

// testGrantManagement checks the Server's grant management on the model:
// revoking one authorization, everything of a user, everything of a
// client, leaving the tokens of others alone.
func testGrantManagement(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.GrantListModel](t, newSetup, "GrantListModel")
	ctx := context.Background()
	type world struct {
		s   Setup
		srv *oauth2server.Server
		rt  oauth2server.RefreshTokenModel
	}
	setup := func(t *testing.T) world {
		s := newSetup(t)
		need[oauth2server.GrantListModel](t, s, "GrantListModel")
		family(t, s)
		rt := need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		srv, err := oauth2server.New(s.Model, oauth2server.Options{})
		require.NoError(t, err)
		return world{s, srv, rt}
	}
	issue := func(t *testing.T, w world, user, client string) *oauth2server.Token {
		tok := fullToken()
		tok.UserID, tok.ClientID = user, client
		saveToken(t, w.s, tok)
		return tok
	}
	revoked := func(t *testing.T, w world, tok *oauth2server.Token) bool {
		t.Helper()
		return getRefresh(t, w.rt, tok.RefreshToken).Revoked
	}

	t.Run("ok, revoke one authorization", func(t *testing.T) {
		w := setup(t)
		user, client := random("user-"), random("client-")
		a, b := issue(t, w, user, client), issue(t, w, user, client)
		otherClient := issue(t, w, user, random("client-"))
		otherUser := issue(t, w, random("user-"), client)
		list, err := w.srv.ListAuthorizations(ctx, user)
		require.NoError(t, err)
		require.Len(t, list, 2)

		require.NoError(t, w.srv.RevokeAuthorization(ctx, user, client))
		assert.True(t, revoked(t, w, a))
		assert.True(t, revoked(t, w, b))
		assertAccessRevoked(t, w.s, a.AccessToken, "access token of the revoked family")
		assert.False(t, revoked(t, w, otherClient), "same user, other client")
		assert.False(t, revoked(t, w, otherUser), "same client, other user")
		list, err = w.srv.ListAuthorizations(ctx, user)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, otherClient.ClientID, list[0].ClientID)
		assert.Equal(t, []string{otherClient.GrantID}, list[0].GrantIDs)
	})

	t.Run("ok, revoke all of a user", func(t *testing.T) {
		w := setup(t)
		user := random("user-")
		a, b := issue(t, w, user, random("client-")), issue(t, w, user, random("client-"))
		other := issue(t, w, random("user-"), a.ClientID)
		require.NoError(t, w.srv.RevokeAllForUser(ctx, user))
		assert.True(t, revoked(t, w, a))
		assert.True(t, revoked(t, w, b))
		assert.False(t, revoked(t, w, other), "other user")
	})

	t.Run("ok, revoke all of a client, tokens without a user included", func(t *testing.T) {
		w := setup(t)
		client := random("client-")
		a, b := issue(t, w, random("user-"), client), issue(t, w, "", client)
		other := issue(t, w, a.UserID, random("client-"))
		require.NoError(t, w.srv.RevokeAllForClient(ctx, client))
		assert.True(t, revoked(t, w, a))
		assert.True(t, revoked(t, w, b))
		assert.False(t, revoked(t, w, other), "other client")
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		w := setup(t)
		tok := issue(t, w, random("user-"), random("client-"))
		assert.Error(t, w.srv.RevokeAuthorization(cancelled(), tok.UserID, tok.ClientID))
		assert.False(t, revoked(t, w, tok))
	})
}

func keys(m map[string]oauth2server.GrantInfo) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
