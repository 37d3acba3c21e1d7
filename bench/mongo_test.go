package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// BenchmarkMongoToken measures the token endpoint on the MongoDB model, one
// row per grant, and a bearer validation of one of its access tokens,
// against the server at MONGODB_URI (make bench starts tools/mongotest, an
// embedded FerretDB on SQLite, unless MONGODB_URI is set). Beside time and
// allocations each row reports, from an event.CommandMonitor:
//
//   - roundtrips/op: the commands the driver sends per request;
//   - writes/op: those of them that write (insert, update, delete,
//     findAndModify).
//
// The rows:
//
//   - grant=client_credentials: a client that acts for no user.
//   - grant=authorization_code_pkce: a code saved before the timer,
//     redeemed with its verifier, issuing access and refresh token.
//   - grant=refresh_token_rotation: the refresh token of the previous
//     answer, rotated.
//   - grant=password: a user whose password is hashed with HashSecret, so
//     that bcrypt does not hide the store's cost; the login throttle's
//     counters are part of the grant.
//   - grant=device_code_pending: the first poll of a pending request
//     (authorization_pending).
//   - grant=device_code: the poll that redeems an approved request.
//   - validate=bearer: GET /api/me behind the Authenticate middleware.
//   - grant=client_credentials_jwt, validate=bearer_jwt: the same with
//     RFC 9068 JWT access tokens (ES256), whose validation asks the
//     model's jti deny-list.
//
// The rows under clientcache=1m run the first three with
// mongomodel.Options.ClientCacheTTL set to a minute.
//
// FerretDB uses an index only for a filter on _id alone and scans its
// collection for any other filter, so a collection that grew with b.N would
// make a request's time depend on b.N. Rows whose requests filter on other
// fields therefore work in batches of mongoBatch requests: between two
// batches, outside the timer and the counts, they remove what the last
// batch spent and store what the next one needs.
func BenchmarkMongoToken(b *testing.B) {
	for _, r := range mongoRows {
		b.Run(r.name+"/impl=oauth2server", func(b *testing.B) { r.run(b, newMongoBench(b, mongomodel.Options{}, r.jwt)) })
	}
	cached := mongomodel.Options{ClientCacheTTL: time.Minute}
	for _, r := range mongoRows[:3] {
		b.Run("clientcache=1m/"+r.name+"/impl=oauth2server", func(b *testing.B) { r.run(b, newMongoBench(b, cached, r.jwt)) })
	}
}

// mongoRows are the rows of BenchmarkMongoToken, each given a fresh model
// and a Server issuing opaque tokens, or JWTs where jwt is set.
var mongoRows = []struct {
	name string
	jwt  bool
	run  func(b *testing.B, mb *mongoBench)
}{
	{"grant=client_credentials", false, func(b *testing.B, mb *mongoBench) {
		tmpl := requestTemplate(http.MethodPost, "/token")
		serve(b, mb.h, newRequest(tmpl, ccForm)) // warm the connection pool
		mb.measure(b, func(int) {
			serve(b, mb.h, newRequest(tmpl, ccForm))
		})
	}},
	{"grant=authorization_code_pkce", false, func(b *testing.B, mb *mongoBench) {
		tmpl := requestTemplate(http.MethodPost, "/token")
		var bodies []string
		refill := func() {
			mb.clear(b, "codes", "tokens", "claims")
			bodies = bodies[:0]
			for _, code := range mb.newCodes(b, mongoBatch) {
				bodies = append(bodies, codeForm(code))
			}
		}
		serve(b, mb.h, newRequest(tmpl, codeForm(mb.newCodes(b, 1)[0])))
		refill()
		mb.measureBatches(b, refill, func(i int) {
			serve(b, mb.h, newRequest(tmpl, bodies[i]))
		})
	}},
	{"grant=refresh_token_rotation", false, func(b *testing.B, mb *mongoBench) {
		tmpl := requestTemplate(http.MethodPost, "/token")
		rec := serve(b, mb.h, newRequest(tmpl, codeForm(mb.newCodes(b, 1)[0])))
		rt := jsonString(rec.Body.Bytes(), "refresh_token")
		// The rotated tokens and their claims go; the live token and the
		// family's document stay.
		refill := func() {
			mb.deleteMany(b, "tokens", bson.D{{Key: "revoked", Value: true}})
			mb.deleteMany(b, "tokens", bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: "t:"}, {Key: "$lt", Value: "t;"}}}})
			mb.clear(b, "claims")
		}
		mb.measureBatches(b, refill, func(int) {
			rec := serve(b, mb.h, newRequest(tmpl, refreshForm(rt)))
			if rt = jsonString(rec.Body.Bytes(), "refresh_token"); rt == "" {
				b.Fatalf("no refresh token in %s", rec.Body)
			}
		})
	}},
	{"grant=password", false, func(b *testing.B, mb *mongoBench) {
		tmpl := requestTemplate(http.MethodPost, "/token")
		serve(b, mb.h, newRequest(tmpl, passwordForm))
		// A right password gives back what its attempt charged: the
		// throttle's counters hold nothing a batch needs.
		refill := func() { mb.clear(b, "counters", "tokens") }
		mb.measureBatches(b, refill, func(int) {
			serve(b, mb.h, newRequest(tmpl, passwordForm))
		})
	}},
	{"grant=device_code_pending", false, func(b *testing.B, mb *mongoBench) {
		tmpl := requestTemplate(http.MethodPost, "/token")
		var codes []string
		refill := func() {
			mb.clear(b, "devices", "claims")
			codes = mb.newDeviceCodes(b, mongoBatch, false)
		}
		serveStatus(b, mb.h, newRequest(tmpl, deviceForm(mb.newDeviceCodes(b, 1, false)[0])), http.StatusBadRequest)
		refill()
		mb.measureBatches(b, refill, func(i int) {
			serveStatus(b, mb.h, newRequest(tmpl, deviceForm(codes[i])), http.StatusBadRequest)
		})
	}},
	{"grant=device_code", false, func(b *testing.B, mb *mongoBench) {
		tmpl := requestTemplate(http.MethodPost, "/token")
		var codes []string
		refill := func() {
			mb.clear(b, "devices", "claims", "tokens")
			codes = mb.newDeviceCodes(b, mongoBatch, true)
		}
		serve(b, mb.h, newRequest(tmpl, deviceForm(mb.newDeviceCodes(b, 1, true)[0])))
		refill()
		mb.measureBatches(b, refill, func(i int) {
			serve(b, mb.h, newRequest(tmpl, deviceForm(codes[i])))
		})
	}},
	{"validate=bearer", false, benchMongoBearer},
	{"grant=client_credentials_jwt", true, func(b *testing.B, mb *mongoBench) {
		tmpl := requestTemplate(http.MethodPost, "/token")
		serve(b, mb.h, newRequest(tmpl, ccForm))
		mb.measure(b, func(int) {
			serve(b, mb.h, newRequest(tmpl, ccForm))
		})
	}},
	{"validate=bearer_jwt", true, benchMongoBearer},
}

// benchMongoBearer is a bearer validation row.
func benchMongoBearer(b *testing.B, mb *mongoBench) {
	tmpl := requestTemplate(http.MethodGet, "/api/me")
	tmpl.Header.Set("Authorization", "Bearer "+mb.newAccessToken(b))
	serve(b, mb.h, newRequest(tmpl, ""))
	mb.measure(b, func(int) {
		serve(b, mb.h, newRequest(tmpl, ""))
	})
}

// The resource owner of the password and device rows.
const (
	benchUsername = "alice"
	benchPassword = "Vq2pLr8sXn4kTz6mWc1bHd9gYf3jRe7a" // generated: HashSecret suits it
)

// passwordForm is the body of a password grant request.
var passwordForm = "grant_type=password&username=" + benchUsername + "&password=" + benchPassword + "&scope=" + scope

// deviceForm is the body of a device access token request.
func deviceForm(deviceCode string) string {
	return "grant_type=" + url.QueryEscape(oauth2server.GrantDeviceCode) + "&device_code=" + url.QueryEscape(deviceCode)
}

// serveStatus runs one request and fails the benchmark unless it answers
// with status want.
func serveStatus(tb testing.TB, h http.Handler, r *http.Request, want int) {
	if got := httptestServe(h, r); got != want {
		tb.Fatalf("status %d, want %d", got, want)
	}
}

// mongoBench is oauth2server on mongomodel, on a fresh database dropped
// when the benchmark ends, with the commands of its driver counted.
type mongoBench struct {
	model            *mongomodel.Model
	db               *mongo.Database
	h                http.Handler
	srv              *oauth2server.Server
	commands, writes atomic.Int64
}

// writeCommands are the commands that change data.
var writeCommands = map[string]bool{"insert": true, "update": true, "delete": true, "findAndModify": true}

func newMongoBench(b *testing.B, opts mongomodel.Options, jwtTokens bool) *mongoBench {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		b.Skip("MONGODB_URI is not set: run make bench (it starts tools/mongotest) or point it at a MongoDB server")
	}
	mb := &mongoBench{}
	monitor := &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			mb.commands.Add(1)
			if writeCommands[e.CommandName] {
				mb.writes.Add(1)
			}
		},
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(10 * time.Second).SetMonitor(monitor))
	if err != nil {
		b.Fatal(err)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	db := client.Database("oauth2bench_" + hex.EncodeToString(suffix[:]))
	mb.db = db
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	ctx := context.Background()
	mb.model = mongomodel.New(db, opts)
	if err := mb.model.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	err = mb.model.AddClient(ctx, &oauth2server.Client{
		ID:           clientID,
		SecretHash:   oauth2server.HashSecret(clientSecret),
		RedirectURIs: []string{redirectURI},
		Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantAuthorizationCode,
			oauth2server.GrantRefreshToken, oauth2server.GrantPassword, oauth2server.GrantDeviceCode},
		Scopes: []string{scope},
	})
	if err != nil {
		b.Fatal(err)
	}
	err = mb.model.AddUser(ctx, &oauth2server.User{ID: userID, Username: benchUsername}, oauth2server.HashSecret(benchPassword))
	if err != nil {
		b.Fatal(err)
	}
	so := oauth2server.Options{
		AccessTokenLifetime:  accessLifetime,
		RefreshTokenLifetime: refreshLifetime,
		AllowPasswordGrant:   true,
		Device:               oauth2server.DeviceOptions{VerificationURI: "https://as.example.com/device"},
	}
	if jwtTokens {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		so.JWT, so.Issuer, so.Audience = &oauth2server.JWTOptions{}, jwtIssuer, jwtAudience
		so.SigningKeys = []oauth2server.SigningKey{{PEM: jwtKey{key: key}.pem(b)}}
	}
	o := mountOurs(b, mb.model, nil, so)
	mb.h, mb.srv = o.handler(), o.srv
	return mb
}

// measure runs op b.N times like the other rows and reports the commands
// per request.
func (mb *mongoBench) measure(b *testing.B, op func(i int)) {
	mb.measureBatches(b, nil, func(i int) { op(i) })
}

// mongoBatch is how many requests a row's collections serve between two
// refills (see BenchmarkMongoToken).
const mongoBatch = 50

// measureBatches is measure for rows that work in batches: before every
// mongoBatch-th request after the first batch it calls refill, outside the
// timer, the CPU time and the command counts; op gets the request's index
// within its batch.
func (mb *mongoBench) measureBatches(b *testing.B, refill func(), op func(i int)) {
	b.ReportAllocs()
	mb.commands.Store(0)
	mb.writes.Store(0)
	var cpu time.Duration
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if refill != nil && i > 0 && i%mongoBatch == 0 {
			b.StopTimer()
			cpu += cpuTime() - start
			c, w := mb.commands.Load(), mb.writes.Load()
			refill()
			mb.commands.Store(c)
			mb.writes.Store(w)
			start = cpuTime()
			b.StartTimer()
		}
		op(i % mongoBatch)
	}
	b.StopTimer()
	cpu += cpuTime() - start
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(mb.commands.Load())/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(mb.writes.Load())/float64(b.N), "writes/op")
}

// clear deletes every document of the named collections (without the
// model's prefix).
func (mb *mongoBench) clear(tb testing.TB, colls ...string) {
	for _, c := range colls {
		mb.deleteMany(tb, c, bson.D{})
	}
}

// deleteMany deletes the documents of a collection (without the model's
// prefix) that match filter.
func (mb *mongoBench) deleteMany(tb testing.TB, coll string, filter bson.D) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := mb.db.Collection(mongomodel.DefaultCollectionPrefix+coll).DeleteMany(ctx, filter); err != nil {
		tb.Fatal(err)
	}
}

// newCodes saves n authorization codes bound to the PKCE challenge, each
// in a grant family of its own as the authorization endpoint makes them.
func (mb *mongoBench) newCodes(tb testing.TB, n int) []string {
	ctx := context.Background()
	now := time.Now()
	codes := make([]string, n)
	for i := range codes {
		codes[i] = randomToken()
		err := mb.model.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{
			Code:                codes[i],
			ExpiresAt:           now.Add(codeLifetime),
			RedirectURI:         redirectURI,
			Scope:               []string{scope},
			ClientID:            clientID,
			UserID:              userID,
			CodeChallenge:       pkceChallenge,
			CodeChallengeMethod: oauth2server.PKCEMethodS256,
			GrantID:             randomToken(),
			IssuedAt:            now,
		}, nil, &oauth2server.User{ID: userID})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return codes
}

// newDeviceCodes saves n device authorization requests of the client and
// returns their device codes; approved ones carry the user's approval.
func (mb *mongoBench) newDeviceCodes(tb testing.TB, n int, approved bool) []string {
	ctx := context.Background()
	now := time.Now()
	codes := make([]string, n)
	for i := range codes {
		dc := &oauth2server.DeviceCode{
			DeviceCode: randomToken(),
			UserCode:   randomToken(),
			ClientID:   clientID,
			Scope:      []string{scope},
			IssuedAt:   now,
			ExpiresAt:  now.Add(codeLifetime),
			Interval:   5 * time.Second,
			Status:     oauth2server.DeviceCodePending,
			GrantID:    randomToken(),
		}
		if err := mb.model.SaveDeviceCode(ctx, dc); err != nil {
			tb.Fatal(err)
		}
		if approved {
			ok, err := mb.model.SetDeviceDecision(ctx, dc.UserCode, &oauth2server.DeviceDecision{
				Approved: true, UserID: userID, Scope: []string{scope}, Now: now})
			if err != nil || !ok {
				tb.Fatal("approval not stored", err)
			}
		}
		codes[i] = dc.DeviceCode
	}
	return codes
}

// newAccessToken returns an access token issued by client_credentials.
func (mb *mongoBench) newAccessToken(tb testing.TB) string {
	rec := serve(tb, mb.h, newRequest(requestTemplate(http.MethodPost, "/token"), ccForm))
	return jsonString(rec.Body.Bytes(), "access_token")
}
