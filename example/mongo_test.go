package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// mongoURI returns MONGODB_URI with a fresh database name, dropped when
// the test ends. Without MONGODB_URI the test skips, or fails with CI=true
// (make test starts a server).
func mongoURI(t *testing.T) string {
	t.Helper()
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MONGODB_URI is not set and CI=true: the MongoDB tests must run in CI (make test starts a server)")
		}
		t.Skip("MONGODB_URI is not set; run make test to start a server")
	}
	u, err := url.Parse(uri)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := "example_" + hex.EncodeToString(b[:])
	u.Path = "/" + db
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			return
		}
		defer func() { _ = client.Disconnect(ctx) }()
		_ = client.Database(db).Drop(ctx)
	})
	return u.String()
}

// -mongo-uri: everything, remembered consent included, lives in MongoDB and
// survives a restart of the server.
func TestMongo(t *testing.T) {
	t.Parallel()
	uri, key := mongoURI(t), newSessionKey(t)
	ts := startApp(t, appConfig{MongoURI: uri, SessionKey: key})
	_, isMongo := ts.app.model.(*mongomodel.Model)
	require.True(t, isMongo)
	ctx := context.Background()

	// Client credentials, then the API.
	cc := clientcredentials.Config{ClientID: demoConfidentialClient, ClientSecret: demoClientSecret,
		TokenURL: ts.base + tokenPath, Scopes: []string{"read"}}
	status, me := apiGet(t, cc.Client(ctx), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, demoConfidentialClient, me["sub"])

	// The code flow, with consent remembered for the confidential client.
	conf := ts.codeClient("read")
	conf.ClientID, conf.ClientSecret = demoConfidentialClient, demoClientSecret
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	c := browser(t)
	page := ts.consentPage(t, c, conf.AuthCodeURL("st-1"))
	q := ts.redirectParams(t, ts.decide(t, c, page, "approve"))
	tok, err := conf.Exchange(ctx, q.Get("code"))
	require.NoError(t, err)

	// A second server on the same database: the token, the clients and
	// the consent are all still there; the seed data is not duplicated.
	ts2 := startApp(t, appConfig{MongoURI: uri, Issuer: ts.base, SessionKey: key})
	status, me = apiGet(t, conf.Client(ctx, tok), ts2.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, demoUsername, me["sub"])
	consent, err := ts2.app.model.FindConsent(ctx, demoConfidentialClient, demoUsername)
	require.NoError(t, err)
	require.NotNil(t, consent)
	assert.Equal(t, []string{"read"}, consent.Scope)

	// The remembered consent skips the page on the second server too.
	c2 := browser(t)
	ts2.login(t, c2)
	resp, _ := get(t, c2, strings.Replace(conf.AuthCodeURL("st-2"), ts.base, ts2.base, 1))
	require.Equal(t, http.StatusFound, resp.StatusCode, "no consent page")
	q = ts.redirectParams(t, resp)
	assert.Equal(t, "st-2", q.Get("state"))
	_, err = conf.Exchange(ctx, q.Get("code"))
	require.NoError(t, err, "the code works")
}

// Every capability the example uses exists on MongoDB too: JWT access
// tokens (the jti deny-list) and the device flow.
func TestMongoJWTAndDevice(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{MongoURI: mongoURI(t), SessionKey: newSessionKey(t), JWT: true, Dev: true, deviceInterval: time.Second})
	ctx := context.Background()
	cc := clientcredentials.Config{ClientID: demoConfidentialClient, ClientSecret: demoClientSecret,
		TokenURL: ts.base + tokenPath, Scopes: []string{"read"}}
	tok, err := cc.Token(ctx)
	require.NoError(t, err)
	assert.Len(t, strings.Split(tok.AccessToken, "."), 3, "a JWT")
	status, _ := apiGet(t, cc.Client(ctx), ts.base+mePath)
	assert.Equal(t, http.StatusOK, status)

	da, err := ts.deviceClient().DeviceAuth(ctx)
	require.NoError(t, err)
	ts.approveDevice(t, browser(t), da.VerificationURIComplete, "approve")
	dtok, err := ts.deviceClient().DeviceAccessToken(ctx, da)
	require.NoError(t, err)
	status, me := apiGet(t, ts.deviceClient().Client(ctx, dtok), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, demoUsername, me["sub"])
}

func TestMongoUnreachable(t *testing.T) {
	t.Parallel()
	_, _, err := newApp(appConfig{Addr: "127.0.0.1:9096", hashPassword: cheapHash, SessionKey: newSessionKey(t),
		SigningKeyFile: testSigningKey,
		MongoURI:       "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200"})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "-mongo-uri: no answer from MongoDB"), err.Error())
}

// OpenID Connect on MongoDB: the users' claims are seeded there, and the
// session document keeps the time and method of the password login, which
// become auth_time and amr.
func TestMongoOpenID(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{MongoURI: mongoURI(t), SessionKey: newSessionKey(t)})
	ctx := context.Background()
	claims, err := ts.app.model.GetUserClaims(ctx, demoUsername)
	require.NoError(t, err)
	assert.Equal(t, "Demo User", claims["name"])
	assert.Equal(t, true, claims["email_verified"])

	c := browser(t)
	r := ts.oidcRequest()
	page := ts.consentPage(t, c, r.url("st", "claims", demoClaimsRequest))
	idClaims := ts.idToken(t, r, ts.decide(t, c, page, "approve"))
	assert.Equal(t, "demo@example.com", idClaims["email"])
	assert.Equal(t, []any{"pwd"}, idClaims["amr"])
	authTime := unixOf(t, idClaims, "auth_time")
	assert.WithinDuration(t, time.Now(), authTime, time.Minute)

	raw, err := mongoDB(t, ts.app).Collection(sessionsCollection).FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, authTime.Unix(), raw.Lookup("authTime").Time().Unix())
	amr, err := raw.Lookup("amr").Array().Values()
	require.NoError(t, err)
	require.Len(t, amr, 1)
	assert.Equal(t, "pwd", amr[0].StringValue())
}
