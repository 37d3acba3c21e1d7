package mongomodel_test

import (
	"context"
	"encoding/json"
	stderrors "errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

func TestEnsureIndexesIsIdempotent(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	require.NoError(t, m.EnsureIndexes(ctx), "second run")
	require.NoError(t, m.EnsureIndexes(ctx), "third run")
	t.Logf("TTL indexes supported: %v", m.TTLIndexes())

	unique := func(coll, key string) bool {
		cur, err := db.Collection("oauth2_" + coll).Indexes().List(ctx)
		require.NoError(t, err)
		defer cur.Close(ctx)
		for cur.Next(ctx) {
			keys, err := cur.Current.Lookup("key").Document().Elements()
			require.NoError(t, err)
			if len(keys) == 1 && keys[0].Key() == key {
				u, _ := cur.Current.Lookup("unique").BooleanOK()
				return u
			}
		}
		t.Fatalf("no index on %s.%s", coll, key)
		return false
	}
	assert.True(t, unique("users", "username"), "users.username unique")
	assert.True(t, unique("tokens", "refresh"), "tokens.refresh unique")
	assert.True(t, unique("devices", "user"), "devices.user unique")
	assert.True(t, unique("consents", "consentId"), "consents.consentId unique")

	// A counter is the last slot of its key (counters.go).
	var names []string
	cur, err := db.Collection("oauth2_counters").Indexes().List(ctx)
	require.NoError(t, err)
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		keys, err := cur.Current.Lookup("key").Document().Elements()
		require.NoError(t, err)
		var ks []string
		for _, k := range keys {
			ks = append(ks, k.Key())
		}
		names = append(names, strings.Join(ks, ","))
	}
	assert.Contains(t, names, "key,n", "counters: key and n")
	assert.Contains(t, names, "expiresAt", "counters: expiresAt")
}

func TestStoresDigestsNotTokens(t *testing.T) {
	// tokens are confidential in storage; R-28 for codes.
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{CollectionPrefix: "authz_"})
	tok := &oauth2server.Token{AccessToken: "access-plain-AAAA", RefreshToken: "refresh-plain-BBBB",
		AccessTokenExpiresAt: time.Now().Add(time.Hour), RefreshTokenExpiresAt: time.Now().Add(24 * time.Hour),
		ClientID: "c1", GrantID: "g1", IssuedAt: time.Now()}
	require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
	code := &oauth2server.AuthorizationCode{Code: "code-plain-CCCC", ExpiresAt: time.Now().Add(time.Minute),
		ClientID: "c1", GrantID: "g1", IssuedAt: time.Now()}
	require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))

	raw, err := db.Collection("authz_tokens").FindOne(ctx, bson.D{{Key: "clientId", Value: "c1"}}).Raw()
	require.NoError(t, err)
	assert.Equal(t, oauth2server.TokenDigest(tok.AccessToken), raw.Lookup("_id").StringValue())
	assert.Equal(t, oauth2server.TokenDigest(tok.RefreshToken), raw.Lookup("refresh").StringValue())
	assert.NotContains(t, raw.String(), "plain", "no token string in the document")

	raw, err = db.Collection("authz_codes").FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, oauth2server.TokenDigest(code.Code), raw.Lookup("_id").StringValue())
	assert.NotContains(t, raw.String(), "plain", "no code string in the document")

	dc := &oauth2server.DeviceCode{DeviceCode: "device-plain-DDDD", UserCode: "BCDF-GHJK", ClientID: "c1",
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute), Status: oauth2server.DeviceCodePending}
	require.NoError(t, m.SaveDeviceCode(ctx, dc))
	raw, err = db.Collection("authz_devices").FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, oauth2server.TokenDigest(dc.DeviceCode), raw.Lookup("_id").StringValue())
	assert.Equal(t, oauth2server.TokenDigest(dc.UserCode), raw.Lookup("user").StringValue())
	assert.NotContains(t, raw.String(), "plain", "no device code in the document")
	assert.NotContains(t, raw.String(), dc.UserCode, "no user code in the document")

	// The digests still find the records, with the presented string set.
	got, err := m.GetAccessToken(ctx, tok.AccessToken)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, tok.AccessToken, got.AccessToken)
	assert.Empty(t, got.RefreshToken, "only the digest of the refresh token is known")
}

func TestStoresTokenIDAsJTI(t *testing.T) {
	// the stored jti is what RevokeToken and RevokeGrant deny-list.
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	tok := &oauth2server.Token{ID: "the-jti", AccessToken: "at", AccessTokenExpiresAt: time.Now().Add(time.Hour),
		ClientID: "c1", GrantID: "g1"}
	require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
	raw, err := db.Collection("oauth2_tokens").FindOne(ctx, bson.D{{Key: "clientId", Value: "c1"}}).Raw()
	require.NoError(t, err)
	assert.Equal(t, "the-jti", raw.Lookup("jti").StringValue())

	require.NoError(t, m.RevokeGrant(ctx, "g1"))
	raw, err = db.Collection("oauth2_revoked_jtis").FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, "the-jti", raw.Lookup("_id").StringValue())
	assert.WithinDuration(t, tok.AccessTokenExpiresAt, raw.Lookup("expiresAt").Time(), time.Millisecond,
		"kept as long as the access token lives")
}

func TestFamilyDocument(t *testing.T) {
	// The first token of a family is inserted with the family's document
	// and needs no tombstone lookup; RevokeGrant keeps that document as
	// long as the tombstone, so that every token saved into the family
	// later looks for the tombstone (tokens.go, saveInFamily).
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	tokens := db.Collection("oauth2_tokens")
	family := func() bson.Raw {
		t.Helper()
		raw, err := tokens.FindOne(ctx, bson.D{{Key: "_id", Value: "f:g1"}}).Raw()
		require.NoError(t, err, "the family document")
		return raw
	}
	expired := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	first := &oauth2server.Token{AccessToken: "first", AccessTokenExpiresAt: expired, ClientID: "c1", GrantID: "g1"}
	require.NoError(t, m.SaveToken(ctx, first, nil, nil))
	assert.True(t, family().Lookup("expiresAt").Time().Equal(expired), "kept as long as the first token")
	assert.Equal(t, "f:g1", family().Lookup("refresh").StringValue(), "a refresh value of its own")

	require.NoError(t, m.RevokeGrant(ctx, "g1"))
	assert.True(t, family().Lookup("expiresAt").Time().After(time.Now().Add(89*24*time.Hour)), "kept as long as the tombstone")
	_, err := m.DeleteExpired(ctx)
	require.NoError(t, err)
	family()

	later := &oauth2server.Token{AccessToken: "later", AccessTokenExpiresAt: time.Now().Add(time.Hour), ClientID: "c1", GrantID: "g1"}
	require.NoError(t, m.SaveToken(ctx, later, nil, nil))
	got, err := m.GetAccessToken(ctx, later.AccessToken)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.True(t, got.Revoked, "a token saved into the revoked family")

	// RevokeGrant of a family without tokens writes the document too.
	require.NoError(t, m.RevokeGrant(ctx, "g2"))
	fresh := &oauth2server.Token{AccessToken: "fresh", AccessTokenExpiresAt: time.Now().Add(time.Hour), ClientID: "c1", GrantID: "g2"}
	require.NoError(t, m.SaveToken(ctx, fresh, nil, nil))
	got, err = m.GetAccessToken(ctx, fresh.AccessToken)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.True(t, got.Revoked, "the first token of a revoked family")
}

func TestEnsureIndexesWritesTheFamilyDocumentsOfEarlierTombstones(t *testing.T) {
	// Earlier versions revoked families without a family document; a
	// first token saved into such a family would skip the tombstone
	// lookup. EnsureIndexes writes the missing documents, all of them on
	// its first run, those revoked since on later runs.
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	grants, tokens := db.Collection("oauth2_grants"), db.Collection("oauth2_tokens")
	tombstone := func(id string, revokedAt time.Time) {
		t.Helper()
		_, err := grants.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "revokedAt", Value: revokedAt},
			{Key: "expiresAt", Value: revokedAt.Add(90 * 24 * time.Hour)}})
		require.NoError(t, err)
	}
	saveIsRevoked := func(grant string) bool {
		t.Helper()
		tok := &oauth2server.Token{AccessToken: "at-" + grant, AccessTokenExpiresAt: time.Now().Add(time.Hour), ClientID: "c1", GrantID: grant}
		require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
		got, err := m.GetAccessToken(ctx, tok.AccessToken)
		require.NoError(t, err)
		require.NotNil(t, got)
		return got.Revoked
	}
	// The model ran EnsureIndexes on an empty database: it marked the
	// families done as of now. Simulate data of an earlier version.
	_, err := grants.DeleteMany(ctx, bson.D{})
	require.NoError(t, err)
	old := time.Now().Add(-30 * 24 * time.Hour)
	tombstone("old-1", old)
	tombstone("old-2", old)
	require.NoError(t, m.EnsureIndexes(ctx))
	for _, g := range []string{"old-1", "old-2"} {
		raw, err := tokens.FindOne(ctx, bson.D{{Key: "_id", Value: "f:" + g}}).Raw()
		require.NoError(t, err, g)
		assert.True(t, raw.Lookup("expiresAt").Time().After(time.Now().Add(59*24*time.Hour)), "%s: kept as long as its tombstone", g)
	}
	assert.True(t, saveIsRevoked("old-1"), "first token of a family revoked by an earlier version")

	_, err = m.DeleteExpired(ctx)
	require.NoError(t, err)
	require.NoError(t, grants.FindOne(ctx, bson.D{{Key: "_id", Value: "mongomodel:family-documents"}}).Err(),
		"the record of the last run has no expiry")

	// An instance of an earlier version revokes a family after that run.
	tombstone("rolling", time.Now())
	require.NoError(t, m.EnsureIndexes(ctx))
	assert.True(t, saveIsRevoked("rolling"), "revoked by an earlier version since the last run")
	assert.False(t, saveIsRevoked("live"), "a family nobody revoked")
}

// Consents saved by earlier versions have no consentId; EnsureIndexes
// gives each its own, once.
func TestEnsureIndexesGivesIDsToEarlierConsents(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	consents := db.Collection("oauth2_consents")
	for _, user := range []string{"alice", "bob"} {
		_, err := consents.InsertOne(ctx, bson.D{{Key: "_id", Value: "3:app" + user}, {Key: "client", Value: "app"},
			{Key: "user", Value: user}, {Key: "scope", Value: bson.A{"read"}}, {Key: "grantedAt", Value: time.Now()}})
		require.NoError(t, err)
	}
	before, err := m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	require.NotNil(t, before)
	assert.Empty(t, before.ID, "saved without an id")

	require.NoError(t, m.EnsureIndexes(ctx))
	ids := map[string]string{}
	for _, user := range []string{"alice", "bob"} {
		c, err := m.FindConsent(ctx, "app", user)
		require.NoError(t, err)
		require.NotNil(t, c)
		require.NotEmpty(t, c.ID)
		byID, err := m.GetConsentByID(ctx, c.ID)
		require.NoError(t, err)
		require.NotNil(t, byID)
		assert.Equal(t, user, byID.UserID)
		ids[user] = c.ID
	}
	assert.NotEqual(t, ids["alice"], ids["bob"])

	require.NoError(t, m.EnsureIndexes(ctx))
	again, err := m.FindConsent(ctx, "app", "alice")
	require.NoError(t, err)
	assert.Equal(t, ids["alice"], again.ID, "a later run keeps the id")
}

func TestClientUserIsInTheClientDocument(t *testing.T) {
	// SetClientUser stores a copy of the user (without its password hash)
	// in the client's document; GetUserFromClient with the Client that
	// GetClient returned needs no round trip. A document with only the
	// username (an earlier version's, or one naming a user added later)
	// is resolved through users.
	client, cmds := connectCounting(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	clients := db.Collection("oauth2_clients")
	require.NoError(t, m.AddUser(ctx, &oauth2server.User{ID: "u1", Username: "alice", Extra: map[string]any{"team": "ops"}},
		oauth2server.HashSecret("pw")))
	cc := []string{oauth2server.GrantClientCredentials}
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "svc", Grants: cc}))
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "lonely", Grants: cc}))
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "web", Grants: []string{oauth2server.GrantAuthorizationCode}}))
	require.NoError(t, m.SetClientUser(ctx, "svc", "alice"))
	require.NoError(t, m.SetClientUser(ctx, "web", "alice"))

	raw, err := clients.FindOne(ctx, bson.D{{Key: "_id", Value: "svc"}}).Raw()
	require.NoError(t, err)
	assert.Equal(t, "alice", raw.Lookup("user").StringValue())
	assert.Equal(t, "u1", raw.Lookup("clientUser", "id").StringValue())
	assert.Equal(t, "ops", raw.Lookup("clientUser", "extra", "team").StringValue())
	assert.NotContains(t, raw.String(), "passwordHash")

	// userOf reads the client and its user as the Server does, and
	// returns the user and the commands both calls sent.
	userOf := func(id string) (*oauth2server.User, []string) {
		t.Helper()
		cmds.take()
		c, err := m.GetClient(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, c)
		u, err := m.GetUserFromClient(ctx, c)
		require.NoError(t, err)
		return u, cmds.take()
	}
	u, sent := userOf("svc")
	require.NotNil(t, u)
	assert.Equal(t, &oauth2server.User{ID: "u1", Username: "alice", Extra: map[string]any{"team": "ops"}}, u)
	assert.Equal(t, []string{"find"}, sent, "the client's read only")
	u, sent = userOf("lonely")
	assert.Nil(t, u)
	assert.Equal(t, []string{"find"}, sent, "a client acting for no one: the client's read only")
	u, sent = userOf("web")
	require.NotNil(t, u, "a client without client_credentials is answered too")
	assert.Len(t, sent, 2, "from its document")

	t.Run("ok, a document with the username only is resolved through users", func(t *testing.T) {
		_, err := clients.UpdateOne(ctx, bson.D{{Key: "_id", Value: "svc"}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "clientUser", Value: ""}}}})
		require.NoError(t, err)
		u, sent := userOf("svc")
		require.NotNil(t, u)
		assert.Equal(t, "u1", u.ID)
		assert.Len(t, sent, 3, "the client, its document's user field, the user")
	})

	t.Run("ok, a user added after SetClientUser", func(t *testing.T) {
		require.NoError(t, m.SetClientUser(ctx, "svc", "bob"))
		u, _ := userOf("svc")
		assert.Nil(t, u, "no such user yet")
		require.NoError(t, m.AddUser(ctx, &oauth2server.User{ID: "u2", Username: "bob"}, oauth2server.HashSecret("pw")))
		u, _ = userOf("svc")
		require.NotNil(t, u)
		assert.Equal(t, "u2", u.ID)
		require.NoError(t, m.SetClientUser(ctx, "svc", "bob"))
		u, sent := userOf("svc")
		require.NotNil(t, u)
		assert.Equal(t, "u2", u.ID)
		assert.Equal(t, []string{"find"}, sent, "stored with the client once SetClientUser finds the user")
	})

	t.Run("ok, another Client value reads the document", func(t *testing.T) {
		c, err := m.GetClient(ctx, "svc")
		require.NoError(t, err)
		cmds.take()
		u, err := m.GetUserFromClient(ctx, &oauth2server.Client{ID: "svc", Grants: cc})
		require.NoError(t, err)
		require.NotNil(t, u)
		assert.Equal(t, "u2", u.ID)
		assert.Equal(t, []string{"find"}, cmds.take())
		u, err = m.GetUserFromClient(ctx, c)
		require.NoError(t, err)
		require.NotNil(t, u)
		assert.Empty(t, cmds.take(), "the Client GetClient returned")
	})
}

func TestClientCache(t *testing.T) {
	client, cmds := connectCounting(t)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	m, db := newModel(t, client, mongomodel.Options{ClientCacheTTL: time.Minute, Now: clock})
	clients := db.Collection("oauth2_clients")
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "svc", SecretHash: "h1", Scopes: []string{"read"},
		Grants: []string{oauth2server.GrantClientCredentials}, Extra: map[string]any{"k": "v"}}))
	get := func(id string) (*oauth2server.Client, int) {
		t.Helper()
		cmds.take()
		c, err := m.GetClient(ctx, id)
		require.NoError(t, err)
		return c, len(cmds.take())
	}

	c, n := get("svc")
	require.NotNil(t, c)
	assert.Equal(t, 1, n, "first read")
	c.Scopes[0], c.Extra["k"] = "admin", "changed"
	c, n = get("svc")
	assert.Zero(t, n, "from the copy")
	assert.Equal(t, []string{"read"}, c.Scopes, "each hit is a copy of its own")
	assert.Equal(t, "v", c.Extra["k"])
	u, err := m.GetUserFromClient(ctx, c)
	require.NoError(t, err)
	assert.Nil(t, u)
	assert.Empty(t, cmds.take(), "client_credentials without any round trip before the token's insert")

	_, err = clients.UpdateOne(ctx, bson.D{{Key: "_id", Value: "svc"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "secretHash", Value: "h2"}}}})
	require.NoError(t, err)
	c, _ = get("svc")
	assert.Equal(t, "h1", c.SecretHash, "a change reaches the copy only when it expires ...")
	m.InvalidateClient("svc")
	c, n = get("svc")
	assert.Equal(t, "h2", c.SecretHash, "... or is invalidated")
	assert.Equal(t, 1, n)

	_, err = clients.UpdateOne(ctx, bson.D{{Key: "_id", Value: "svc"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "secretHash", Value: "h3"}}}})
	require.NoError(t, err)
	advance(time.Minute)
	c, n = get("svc")
	assert.Equal(t, "h3", c.SecretHash, "expired")
	assert.Equal(t, 1, n)

	require.NoError(t, m.AddUser(ctx, &oauth2server.User{ID: "u1", Username: "alice"}, "x"))
	require.NoError(t, m.SetClientUser(ctx, "svc", "alice"))
	c, n = get("svc")
	assert.Equal(t, 1, n, "SetClientUser drops the copy")
	u, err = m.GetUserFromClient(ctx, c)
	require.NoError(t, err)
	require.NotNil(t, u)
	assert.Equal(t, "u1", u.ID)

	for range 2 {
		c, n = get("no-such-client")
		assert.Nil(t, c)
		assert.Equal(t, 1, n, "unknown ids are not kept")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = m.GetClient(cancelled, "svc")
	assert.Error(t, err, "a cancelled context is an error, cached or not")
}

func TestRoundTripsPerOperation(t *testing.T) {
	// The commands of the operations on a token request's path, as
	// docs/mongodb.md lists them.
	client, cmds := connectCounting(t)
	ctx := context.Background()
	m, _ := newModel(t, client, mongomodel.Options{})
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "svc", Grants: []string{oauth2server.GrantClientCredentials}}))
	exp := time.Now().Add(time.Hour)
	code := &oauth2server.AuthorizationCode{Code: "code", ExpiresAt: exp, ClientID: "svc", GrantID: "g1"}
	require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
	redeemed := &oauth2server.AuthorizationCode{Code: "code2", ExpiresAt: exp, ClientID: "svc", GrantID: "g2"}
	require.NoError(t, m.SaveAuthorizationCode(ctx, redeemed, nil, nil))
	bought := &oauth2server.Token{AccessToken: "at0", RefreshToken: "rt0", AccessTokenExpiresAt: exp, ClientID: "svc", GrantID: "g2"}
	first := &oauth2server.Token{AccessToken: "at1", RefreshToken: "rt1", AccessTokenExpiresAt: exp, ClientID: "svc", GrantID: "g1"}
	next := &oauth2server.Token{AccessToken: "at2", RefreshToken: "rt2", AccessTokenExpiresAt: exp, ClientID: "svc", GrantID: "g1"}
	cmds.take()

	for _, tc := range []struct {
		name   string
		op     func() error
		expect []string
	}{
		{"GetClient and GetUserFromClient", func() error {
			c, err := m.GetClient(ctx, "svc")
			if err != nil {
				return err
			}
			_, err = m.GetUserFromClient(ctx, c)
			return err
		}, []string{"find"}},
		{"GetAuthorizationCode", func() error { _, err := m.GetAuthorizationCode(ctx, code.Code); return err }, []string{"find"}},
		{"RevokeAuthorizationCode", func() error { _, err := m.RevokeAuthorizationCode(ctx, code); return err }, []string{"update", "insert"}},
		{"RedeemAuthorizationCode", func() error {
			ok, err := m.RedeemAuthorizationCode(ctx, redeemed, bought, nil, nil)
			if err == nil && !ok {
				err = stderrors.New("not redeemed")
			}
			return err
		}, []string{"insert"}},
		{"SaveToken, the family's first", func() error { return m.SaveToken(ctx, first, nil, nil) }, []string{"insert"}},
		{"GetRefreshToken", func() error { _, err := m.GetRefreshToken(ctx, first.RefreshToken); return err }, []string{"find"}},
		{"RevokeToken", func() error {
			_, err := m.RevokeToken(ctx, &oauth2server.Token{RefreshToken: first.RefreshToken})
			return err
		}, []string{"find", "update"}},
		{"SaveToken, a later one", func() error { return m.SaveToken(ctx, next, nil, nil) }, []string{"insert", "find"}},
		{"GetAccessToken", func() error { _, err := m.GetAccessToken(ctx, next.AccessToken); return err }, []string{"find"}},
		{"RevokeGrant", func() error { return m.RevokeGrant(ctx, "g1") }, []string{"update", "insert", "find", "update", "update"}},
	} {
		require.NoError(t, tc.op(), tc.name)
		assert.Equal(t, tc.expect, cmds.take(), tc.name)
	}
}

func TestDeviceDecisionIsAClaim(t *testing.T) {
	// The decision and the redemption are inserted claims, never fields
	// rewritten on the request, so a racing poll cannot undo them.
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	dc := &oauth2server.DeviceCode{DeviceCode: "dc", UserCode: "BCDF-GHJK", ClientID: "c1",
		ExpiresAt: time.Now().Add(time.Minute), Status: oauth2server.DeviceCodePending}
	require.NoError(t, m.SaveDeviceCode(ctx, dc))
	ok, err := m.SetDeviceDecision(ctx, dc.UserCode, &oauth2server.DeviceDecision{Approved: true, UserID: "alice",
		Scope: []string{"read"}, Now: time.Now()})
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = m.ConsumeDeviceCode(ctx, dc.DeviceCode)
	require.NoError(t, err)
	require.True(t, ok)

	id := oauth2server.TokenDigest(dc.DeviceCode)
	raw, err := db.Collection("oauth2_devices").FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, "pending", raw.Lookup("status").StringValue(), "the request document is not rewritten")
	for _, claim := range []string{"d:" + id, "r:" + id} {
		raw, err = db.Collection("oauth2_claims").FindOne(ctx, bson.D{{Key: "_id", Value: claim}}).Raw()
		require.NoError(t, err, claim)
		assert.True(t, raw.Lookup("expiresAt").Time().After(dc.ExpiresAt), "%s outlives the request", claim)
	}
}

func TestDuplicates(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	m, _ := newModel(t, client, mongomodel.Options{})

	tests := []struct {
		name string
		add  func() error
	}{
		{"nok, duplicate client id", func() error { return m.AddClient(ctx, &oauth2server.Client{ID: "c1"}) }},
		{"nok, duplicate username", func() error {
			return m.AddUser(ctx, &oauth2server.User{ID: "u-other", Username: "alice"}, "x")
		}},
		{"nok, duplicate user id", func() error {
			return m.AddUser(ctx, &oauth2server.User{ID: "u1", Username: "someone-else"}, "x")
		}},
		{"nok, duplicate access token", func() error {
			return m.SaveToken(ctx, &oauth2server.Token{AccessToken: "at1", ClientID: "c1"}, nil, nil)
		}},
		{"nok, duplicate refresh token", func() error {
			return m.SaveToken(ctx, &oauth2server.Token{AccessToken: "at2", RefreshToken: "rt1", ClientID: "c1"}, nil, nil)
		}},
	}
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "c1"}))
	require.NoError(t, m.AddUser(ctx, &oauth2server.User{ID: "u1", Username: "alice"}, "x"))
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "at1", RefreshToken: "rt1", ClientID: "c1"}, nil, nil))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.add()
			require.Error(t, err)
			assert.ErrorIs(t, err, mongomodel.ErrDuplicate)
			assert.True(t, strings.HasPrefix(err.Error(), "mongomodel: "), err.Error())
		})
	}
	t.Run("ok, access-only tokens do not collide on the refresh index", func(t *testing.T) {
		for _, at := range []string{"only-1", "only-2"} {
			require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: at, ClientID: "c1"}, nil, nil))
		}
	})
}

func TestDriverErrorsAreWrapped(t *testing.T) {
	client := connect(t)
	m, _ := newModel(t, client, mongomodel.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := m.SaveToken(ctx, &oauth2server.Token{AccessToken: "x"}, nil, nil)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "mongomodel: save token: "), err.Error())
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, stderrors.Is(err, mongomodel.ErrDuplicate))
}

func TestDeleteExpired(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	now := time.Now()
	m, db := newModel(t, client, mongomodel.Options{Now: func() time.Time { return now }})
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	for _, tok := range []*oauth2server.Token{
		{AccessToken: "expired", AccessTokenExpiresAt: past},
		{AccessToken: "expired-with-refresh", AccessTokenExpiresAt: past, RefreshToken: "r-expired", RefreshTokenExpiresAt: past},
		{AccessToken: "live", AccessTokenExpiresAt: future},
		// A rotated refresh token is kept until it expires, for reuse
		// detection, though its access token expired.
		{AccessToken: "refresh-live", AccessTokenExpiresAt: past, RefreshToken: "r-live", RefreshTokenExpiresAt: future, Revoked: true},
	} {
		require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
	}
	require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "old", ExpiresAt: past}, nil, nil))
	require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "new", ExpiresAt: future}, nil, nil))
	require.NoError(t, m.RevokeJTI(ctx, "jti-old", past))
	require.NoError(t, m.RevokeJTI(ctx, "jti-new", future))
	require.NoError(t, m.SaveDeviceCode(ctx, &oauth2server.DeviceCode{DeviceCode: "dc-old", UserCode: "BBBB-BBBB", ExpiresAt: past}))
	require.NoError(t, m.SaveDeviceCode(ctx, &oauth2server.DeviceCode{DeviceCode: "dc-new", UserCode: "CCCC-CCCC", ExpiresAt: future}))
	for user, expires := range map[string]time.Time{"expired": past, "live": future, "forever": {}} {
		require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ClientID: "app", UserID: user, Scope: []string{"read"}, ExpiresAt: expires}))
	}

	n, err := m.DeleteExpired(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 6, n)
	count := func(coll string) int64 {
		c, err := db.Collection("oauth2_"+coll).CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		return c
	}
	assert.EqualValues(t, 2, count("tokens"))
	assert.EqualValues(t, 1, count("codes"))
	assert.EqualValues(t, 1, count("revoked_jtis"))
	assert.EqualValues(t, 1, count("devices"))
	assert.EqualValues(t, 2, count("consents"), "a consent without an expiry stays")
	revoked, err := m.IsJTIRevoked(ctx, "jti-new")
	require.NoError(t, err)
	assert.True(t, revoked)
	got, err := m.GetRefreshToken(ctx, "r-live")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.True(t, got.Revoked)
}

func TestNewServerOnSameDatabaseLosesNothing(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	m1, db := newModel(t, client, mongomodel.Options{})
	c := &oauth2server.Client{ID: "app", SecretHash: oauth2server.HashSecret("s3cret"), Scopes: []string{"read"},
		Grants:       []string{oauth2server.GrantClientCredentials, oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken},
		RedirectURIs: []string{"https://app.example/cb"}}
	require.NoError(t, m1.AddClient(ctx, c))
	srv1, err := oauth2server.New(m1, oauth2server.Options{})
	require.NoError(t, err)
	cc := postToken(t, srv1, url.Values{"grant_type": {"client_credentials"}})
	require.Equal(t, http.StatusOK, cc.status, cc.body)
	require.NoError(t, m1.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "the-code", ClientID: "app",
		RedirectURI: "https://app.example/cb", Scope: []string{"read"}, GrantID: "g1", IssuedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Minute)}, c, nil))
	ac := postToken(t, srv1, url.Values{"grant_type": {"authorization_code"}, "code": {"the-code"},
		"redirect_uri": {"https://app.example/cb"}})
	require.Equal(t, http.StatusOK, ac.status, ac.body)

	// A second process: its own client, model and Server on the same data.
	client2 := connect(t)
	m2 := mongomodel.New(client2.Database(db.Name()), mongomodel.Options{})
	require.NoError(t, m2.EnsureIndexes(ctx))
	srv2, err := oauth2server.New(m2, oauth2server.Options{})
	require.NoError(t, err)
	for _, at := range []string{cc.body["access_token"].(string), ac.body["access_token"].(string)} {
		tok, err := m2.GetAccessToken(ctx, at)
		require.NoError(t, err)
		require.NotNil(t, tok)
		assert.False(t, tok.Revoked)
		assert.Equal(t, "app", tok.ClientID)
		assert.True(t, tok.AccessTokenExpiresAt.After(time.Now()))
	}
	refreshed := postToken(t, srv2, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ac.body["refresh_token"].(string)}})
	assert.Equal(t, http.StatusOK, refreshed.status, refreshed.body)
	replay := postToken(t, srv2, url.Values{"grant_type": {"authorization_code"}, "code": {"the-code"},
		"redirect_uri": {"https://app.example/cb"}})
	assert.Equal(t, http.StatusBadRequest, replay.status, "the code was used on the first Server (R-49)")
}

// tokenResult is a decoded token endpoint response.
type tokenResult struct {
	status int
	header http.Header
	body   map[string]any
}

// postToken sends a token request for client "app" with secret "s3cret".
func postToken(t *testing.T, srv *oauth2server.Server, form url.Values) tokenResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "s3cret")
	rec := httptest.NewRecorder()
	nethttp.Token(srv).ServeHTTP(rec, req)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return tokenResult{status: rec.Code, header: rec.Header(), body: body}
}

func TestAbandonedClaimDoesNotKeepAnItemLive(t *testing.T) {
	// A single use that stops between its two writes must leave the item
	// revoked, never live: the revocation endpoint ignores RevokeToken's
	// answer, so an access token left live behind a claim nobody completes
	// would survive its revocation. The claim documents below are
	// what a process of an earlier version that wrote the claim first
	// left; the revoked flag is written first now, in the same command.
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})

	tok := &oauth2server.Token{AccessToken: "abandoned-at", AccessTokenExpiresAt: time.Now().Add(time.Hour),
		ClientID: "c1", GrantID: "g1", IssuedAt: time.Now()}
	require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
	claim := "t:" + oauth2server.TokenDigest(tok.AccessToken)
	_, err := db.Collection("oauth2_tokens").InsertOne(ctx, bson.D{{Key: "_id", Value: claim}, {Key: "refresh", Value: claim},
		{Key: "expiresAt", Value: time.Now().Add(time.Hour)}})
	require.NoError(t, err)
	ok, err := m.RevokeToken(ctx, &oauth2server.Token{AccessToken: tok.AccessToken})
	require.NoError(t, err)
	assert.False(t, ok, "nobody wins a token whose claim was taken")
	got, err := m.GetAccessToken(ctx, tok.AccessToken)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.True(t, got.Revoked, "access token revoked")

	code := &oauth2server.AuthorizationCode{Code: "abandoned-code", ExpiresAt: time.Now().Add(time.Minute),
		ClientID: "c1", GrantID: "g2", IssuedAt: time.Now()}
	require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
	_, err = db.Collection("oauth2_codes").InsertOne(ctx, bson.D{{Key: "_id", Value: "c:" + oauth2server.TokenDigest(code.Code)},
		{Key: "expiresAt", Value: time.Now().Add(time.Hour)}})
	require.NoError(t, err)
	// The claim of a code is in tokens now, beside the tokens it buys
	// (RedeemAuthorizationCode); one left in codes decides nothing. The
	// process that left it stopped before it saved a token, so the code
	// is still spent once.
	ok, err = m.RevokeAuthorizationCode(ctx, code)
	require.NoError(t, err)
	assert.True(t, ok, "the claim in tokens decides")
	ok, err = m.RevokeAuthorizationCode(ctx, code)
	require.NoError(t, err)
	assert.False(t, ok, "once")
	gotCode, err := m.GetAuthorizationCode(ctx, code.Code)
	require.NoError(t, err)
	require.NotNil(t, gotCode)
	assert.True(t, gotCode.Revoked, "code revoked")
}

func TestClaimOfAnUnknownItemLeavesNothingToFind(t *testing.T) {
	// A single use is one update command whose first statement is an
	// upsert (tokens.go, claim): for an unknown item it inserts a stub,
	// which lookups treat as absent and which takes no key of a real item.
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})

	code := &oauth2server.AuthorizationCode{Code: "never-saved", ExpiresAt: time.Now().Add(time.Minute), ClientID: "c1"}
	ok, err := m.RevokeAuthorizationCode(ctx, code)
	require.NoError(t, err)
	assert.False(t, ok)
	got, err := m.GetAuthorizationCode(ctx, code.Code)
	require.NoError(t, err)
	assert.Nil(t, got, "the stub is not a code")
	ok, err = m.RevokeAuthorizationCode(ctx, code)
	require.NoError(t, err)
	assert.False(t, ok, "nor can it be claimed")

	// A token record deleted between RevokeToken's lookup and its claim
	// leaves such a stub.
	id := oauth2server.TokenDigest("vanished-at")
	_, err = db.Collection("oauth2_tokens").InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "refresh", Value: "stub:" + id},
		{Key: "revoked", Value: true}, {Key: "stub", Value: true}, {Key: "expiresAt", Value: time.Now().Add(time.Hour)}})
	require.NoError(t, err)
	tok, err := m.GetAccessToken(ctx, "vanished-at")
	require.NoError(t, err)
	assert.Nil(t, tok, "the stub is not a token")
	ok, err = m.RevokeToken(ctx, &oauth2server.Token{AccessToken: "vanished-at"})
	require.NoError(t, err)
	assert.False(t, ok)
	for _, at := range []string{"only-1", "only-2"} {
		require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: at, ClientID: "c1"}, nil, nil),
			"stubs and claims take no refresh value of a real token")
	}
}
