// Package mongomodel is an [oauth2server.Model] on MongoDB (driver v2) that
// implements every storage capability. It is how several stateless Server
// instances behind a load balancer share their state.
//
// Tokens and codes are stored only as SHA-256 digests
// ([oauth2server.TokenDigest]), never as the strings handed to clients, so a
// copy of the database holds no usable token. A consequence: a Token read
// back with GetAccessToken carries the access token string that was looked
// up and an empty RefreshToken, and one read with GetRefreshToken carries
// only its RefreshToken. [Model.RevokeToken] finds the record by whichever
// string is set.
//
// Nothing relies on multi-document transactions or on TTL indexes: expiry
// is always checked on read by the Server, TTL indexes only free space
// where the server supports them (see [Model.EnsureIndexes] and
// [Model.DeleteExpired]). Single use of codes, refresh tokens and device
// codes, and the single decision on a device request, are decided by the
// insert of a document with a unique _id, which is atomic on every server
// that speaks the MongoDB protocol; see [Model.RedeemAuthorizationCode]
// and [Model.SetDeviceDecision]. So is every add to a throttle counter
// ([Model.AddCounter]).
//
// Collections (names prefixed with [Options.CollectionPrefix]):
//
//	clients       _id = client id
//	users         _id = user id, unique username
//	tokens        one document per Token: _id = digest of the access token,
//	              refresh = digest of the refresh token (unique), jti = Token.ID;
//	              one per grant family: _id = "f:" + grant id (see SaveToken);
//	              single-use claims: _id = "t:" + the token's _id, and
//	              "c:" + the digest of a code (see RedeemAuthorizationCode)
//	codes         _id = digest of the code; claims written by earlier
//	              versions: _id = "c:" + that
//	grants        tombstones of revoked grant families, _id = grant id
//	claims        device decisions (_id = "d:" + the request's _id) and
//	              redemptions ("r:")
//	revoked_jtis  deny-list of JWT access tokens, _id = jti
//	devices       device authorization requests, _id = digest of the
//	              device code, user = digest of the user code (unique)
//	consents      remembered consent, _id = client id and user id,
//	              consentId = Consent.ID (unique)
//	counters      throttle counters, one document per add: _id = key + "#"
//	              + n, the n-th add to the counter named key
//	client_secrets, trusted_issuers, issuer_subjects
//	              client assertions and assertion grants (assertions.go)
//	exchange_policies
//	              token exchange rules, _id = client id (exchange.go)
//	pushed_requests
//	              pushed authorization requests, _id = digest of the
//	              request_uri; consumed by a claim ("p:")
package mongomodel

import (
	"bytes"
	"context"
	stderrors "errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-oauth2/oauth2server"
)

// Compile-time checks that Model implements every storage capability.
var (
	_ oauth2server.Model                  = (*Model)(nil)
	_ oauth2server.AccessTokenModel       = (*Model)(nil)
	_ oauth2server.RefreshTokenModel      = (*Model)(nil)
	_ oauth2server.GrantModel             = (*Model)(nil)
	_ oauth2server.AuthorizationCodeModel = (*Model)(nil)
	_ oauth2server.CodeRedemptionModel    = (*Model)(nil)
	_ oauth2server.PasswordModel          = (*Model)(nil)
	_ oauth2server.ClientUserModel        = (*Model)(nil)
	_ oauth2server.RevokedJTIModel        = (*Model)(nil)
	_ oauth2server.DeviceCodeModel        = (*Model)(nil)
)

// ErrDuplicate is returned (wrapped) when an insert collides with an
// existing id or unique key: a client id, a username, a token.
var ErrDuplicate = stderrors.New("mongomodel: duplicate key")

// Defaults of [Options].
const (
	DefaultCollectionPrefix       = "oauth2_"
	DefaultTimeout                = 5 * time.Second
	DefaultIndexTimeout           = 10 * time.Minute
	DefaultGrantTombstoneLifetime = 90 * 24 * time.Hour
)

// claimLifetime is how long a single-use claim of a code or token is kept.
// The claim only arbitrates racing revocations; the durable state is the
// item's revoked flag, so the claim need not outlive the item. The claims
// of a device request are its durable state and are kept for claimLifetime
// after the request expires (device.go).
const claimLifetime = time.Hour

// Options configures a [Model]. The zero value is usable.
type Options struct {
	// CollectionPrefix is prepended to every collection name. Optional.
	// Default "oauth2_".
	CollectionPrefix string
	// Timeout bounds every call on top of the caller's context, so that a
	// stalled server turns into server_error instead of a hanging request.
	// Optional. Default 5 seconds; negative means only the caller's
	// context bounds calls.
	Timeout time.Duration
	// IndexTimeout bounds [Model.EnsureIndexes] on top of the caller's
	// context, in place of Timeout. Building an index on a collection
	// that already holds millions of documents takes minutes, and MongoDB
	// aborts a build whose createIndexes command runs out of time (the
	// driver sends the time left as maxTimeMS), so a bound of seconds
	// would abort that build at every start. Optional. Default 10
	// minutes; negative means only the caller's context bounds it.
	IndexTimeout time.Duration
	// WriteConcern is the write concern of every write of the model.
	// Single use of codes and refresh tokens, family revocation and the
	// deny-list hold across a replica set failover only for writes that a
	// majority acknowledged: a write that only the primary acknowledged can
	// be rolled back, making a redeemed code or a revoked token live
	// again. Whatever the client's own settings, the model also reads from
	// the primary, which is where those writes are decided. Optional.
	// Default {w: "majority"} (journaled, by the server's
	// writeConcernMajorityJournalDefault).
	WriteConcern *writeconcern.WriteConcern
	// GrantTombstoneLifetime is how long a revoked grant family is
	// remembered, so that a token of that family saved later is stored
	// revoked. It must exceed the longest refresh token lifetime in use.
	// Optional. Default 90 days.
	GrantTombstoneLifetime time.Duration
	// Now is the clock used for tombstone and claim expiry, by
	// [Model.DeleteExpired] and for ClientCacheTTL; counters go by the now
	// their caller passes. Optional. Default time.Now.
	Now func() time.Time
	// ClientCacheTTL, when positive, keeps every client document that
	// GetClient reads for this long and answers GetClient from that copy:
	// a token request then costs one round trip less. Changes to a client
	// reach the copies of other instances only when these expire, so a
	// deleted client or a replaced secret keeps working there until then;
	// keep it short (seconds to a minute). [Model.SetClientUser] and
	// [Model.InvalidateClient] drop this instance's copy. Unknown client
	// ids are not kept. Optional. Default 0: every GetClient reads the
	// database.
	ClientCacheTTL time.Duration
	// ClientSecretKeys are the AES-256 keys (32 bytes each) that seal the
	// secrets of client_secret_jwt clients ([Model.SetClientSecret]): the
	// first seals, every one opens, so a key is rotated by putting the new
	// one first. Keep them outside the database. Optional. Default none:
	// client_secret_jwt secrets cannot be stored.
	ClientSecretKeys [][]byte
}

// Model is a MongoDB model. Create it with [New]; it is safe for concurrent
// use. The *mongo.Database, and the client behind it, belong to the caller.
type Model struct {
	opts Options

	clients, users, tokens, codes, grants, claims, jtis, devices, consents, counters *mongo.Collection
	// pushed holds pushed authorization requests (par.go).
	pushed *mongo.Collection

	ttl atomic.Bool // TTL indexes exist (set by EnsureIndexes)

	// clientUsers holds the user of each Client that GetClient returned,
	// until GetUserFromClient takes it or the Client is collected.
	clientUsers clientUsers
	// clientCache holds client documents when ClientCacheTTL is set.
	clientCache clientCache

	// dummy is the hash verified against for unknown users: like the
	// last password hash this Model stored or read, so an unknown name
	// costs what a known one does whichever hash kind the users have.
	dummy atomic.Pointer[string]
}

// New returns a Model storing its collections in db. Call
// [Model.EnsureIndexes] once at startup (it is idempotent).
//
// The model's collections write with [Options.WriteConcern] (majority by
// default) and read from the primary, whatever db's client is configured
// with, so that a revocation written by one instance is seen by the next
// request on another and survives a failover. The client itself is left
// as it is.
func New(db *mongo.Database, opts Options) *Model {
	if opts.CollectionPrefix == "" {
		opts.CollectionPrefix = DefaultCollectionPrefix
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.IndexTimeout == 0 {
		opts.IndexTimeout = DefaultIndexTimeout
	}
	if opts.WriteConcern == nil {
		opts.WriteConcern = writeconcern.Majority()
	}
	if opts.GrantTombstoneLifetime <= 0 {
		opts.GrantTombstoneLifetime = DefaultGrantTombstoneLifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	collOpts := options.Collection().SetWriteConcern(opts.WriteConcern).SetReadPreference(readpref.Primary())
	c := func(name string) *mongo.Collection { return db.Collection(opts.CollectionPrefix+name, collOpts) }
	return &Model{
		opts:     opts,
		clients:  c("clients"),
		users:    c("users"),
		tokens:   c("tokens"),
		codes:    c("codes"),
		grants:   c("grants"),
		claims:   c("claims"),
		jtis:     c("revoked_jtis"),
		devices:  c("devices"),
		consents: c("consents"),
		counters: c("counters"),
		pushed:   c("pushed_requests"),
	}
}

// op derives the context of one call from the caller's.
func (m *Model) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return bound(ctx, m.opts.Timeout)
}

// bound derives a context ending after d at the latest, or only with ctx
// when d is negative.
func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// wrap turns a driver error into the model's error for the named operation.
func wrap(op string, err error) error {
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongomodel: %s: %w: %w", op, ErrDuplicate, err)
	}
	return fmt.Errorf("mongomodel: %s: %w", op, err)
}

// findOne decodes the document matching filter into v. It reports false,
// with a nil error, when there is none.
func findOne(ctx context.Context, coll *mongo.Collection, filter any, v any, opts ...options.Lister[options.FindOneOptions]) (bool, error) {
	raw, err := coll.FindOne(ctx, filter, opts...).Raw()
	if stderrors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, decode(raw, v)
}

// AddClient stores a client. Its SecretHash must already be hashed
// ([oauth2server.HashSecret]); an id in use is an error wrapping
// [ErrDuplicate].
func (m *Model) AddClient(ctx context.Context, c *oauth2server.Client) error {
	if c == nil || c.ID == "" {
		return stderrors.New("mongomodel: add client: client id is empty")
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	if _, err := m.clients.InsertOne(ctx, clientToDoc(c)); err != nil {
		return wrap("add client", err)
	}
	return nil
}

// AddUser stores a user with a password hash made by
// [oauth2server.HashPassword] (bcrypt) or [oauth2server.HashSecret]. A user
// id or username in use is an error wrapping [ErrDuplicate].
func (m *Model) AddUser(ctx context.Context, u *oauth2server.User, passwordHash string) error {
	if u == nil || u.ID == "" || u.Username == "" {
		return stderrors.New("mongomodel: add user: user id and username are required")
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	if _, err := m.users.InsertOne(ctx, userDoc{ID: u.ID, Username: u.Username, PasswordHash: passwordHash, Extra: u.Extra}); err != nil {
		return wrap("add user", err)
	}
	m.noteHash(passwordHash)
	return nil
}

// SetClientUser makes the user with the given username the one on whose
// behalf the client acts in the client_credentials grant
// ([oauth2server.ClientUserModel]). An unknown client is an error.
//
// The client's document keeps the username and a copy of the user (id,
// username, Extra; never the password hash), so that the grant reads no
// user. A username without user is kept alone and resolved when the grant
// runs, so the client acts for that user once it is added. If you change
// or delete a user document yourself, call SetClientUser again for the
// clients that act for it.
func (m *Model) SetClientUser(ctx context.Context, clientID, username string) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var u userDoc
	found, err := findOne(ctx, m.users, bson.D{{Key: "username", Value: username}}, &u,
		options.FindOne().SetProjection(bson.D{{Key: "passwordHash", Value: 0}}))
	if err != nil {
		return wrap("set client user", err)
	}
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "user", Value: username}}},
		{Key: "$unset", Value: bson.D{{Key: "clientUser", Value: ""}}},
	}
	if found {
		update = bson.D{{Key: "$set", Value: bson.D{{Key: "user", Value: username},
			{Key: "clientUser", Value: clientUserDoc{ID: u.ID, Username: u.Username, Extra: u.Extra}}}}}
	}
	res, err := m.clients.UpdateOne(ctx, bson.D{{Key: "_id", Value: clientID}}, update)
	if err != nil {
		return wrap("set client user", err)
	}
	m.clientCache.drop(clientID)
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongomodel: set client user: no client %q", clientID)
	}
	return nil
}

// InvalidateClient drops this instance's copy of the client's document
// ([Options.ClientCacheTTL]): the next GetClient reads the database. Call
// it after you change a client document yourself; other instances see the
// change when their copies expire.
func (m *Model) InvalidateClient(clientID string) {
	m.clientCache.drop(clientID)
}

// GetClient implements [oauth2server.Model]. With [Options.ClientCacheTTL]
// it answers from this instance's copy of the document while that is
// fresh.
func (m *Model) GetClient(ctx context.Context, clientID string) (*oauth2server.Client, error) {
	ttl := m.opts.ClientCacheTTL
	if ttl > 0 {
		if err := ctx.Err(); err != nil {
			return nil, wrap("get client", err)
		}
		if raw, ok := m.clientCache.get(clientID, m.opts.Now()); ok {
			return m.decodeClient(raw)
		}
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	raw, err := m.clients.FindOne(ctx, bson.D{{Key: "_id", Value: clientID}}).Raw()
	if stderrors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("get client", err)
	}
	if ttl > 0 {
		now := m.opts.Now()
		m.clientCache.put(clientID, bytes.Clone(raw), now, now.Add(ttl))
	}
	return m.decodeClient(raw)
}

// decodeClient returns the client of a document, each call its own copy,
// and remembers its user (noteClientUser).
func (m *Model) decodeClient(raw bson.Raw) (*oauth2server.Client, error) {
	var d clientDoc
	if err := decode(raw, &d); err != nil {
		return nil, wrap("get client", err)
	}
	c := d.client()
	m.noteClientUser(c, &d)
	return c, nil
}

// noteClientUser remembers the user of a client that may use
// client_credentials, when its document says who it is without a read of
// users, for GetUserFromClient with that Client (see clientUsers).
func (m *Model) noteClientUser(c *oauth2server.Client, d *clientDoc) {
	switch {
	case !c.HasGrant(oauth2server.GrantClientCredentials):
	case d.ClientUser != nil:
		m.clientUsers.remember(c, d.ClientUser.user())
	case d.User == "":
		m.clientUsers.remember(c, nil)
	}
}

// GetUser implements [oauth2server.PasswordModel]. The password is checked
// with [oauth2server.VerifySecret] (constant-time); an unknown user is
// checked against a dummy hash of the same kind and cost as the stored ones
// ([oauth2server.DummyHashLike]), so that timing does not reveal which
// usernames exist.
func (m *Model) GetUser(ctx context.Context, username, password string) (*oauth2server.User, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d userDoc
	found, err := findOne(ctx, m.users, bson.D{{Key: "username", Value: username}}, &d)
	if err != nil {
		return nil, wrap("get user", err)
	}
	if !found {
		dummy := dummyPasswordHash()
		if p := m.dummy.Load(); p != nil {
			dummy = *p
		}
		oauth2server.VerifySecret(dummy, password)
		return nil, nil
	}
	m.noteHash(d.PasswordHash)
	if !oauth2server.VerifySecret(d.PasswordHash, password) {
		return nil, nil
	}
	return d.user(), nil
}

// noteHash makes the dummy for unknown users follow the kind and cost of
// hash (computed only when they change).
func (m *Model) noteHash(hash string) {
	if p := m.dummy.Load(); p != nil && sameHashKind(*p, hash) {
		return
	}
	d := oauth2server.DummyHashLike(hash)
	m.dummy.Store(&d)
}

// sameHashKind reports whether two stored hashes cost the same to verify.
func sameHashKind(a, b string) bool {
	ca, errA := bcrypt.Cost([]byte(a))
	cb, errB := bcrypt.Cost([]byte(b))
	if errA != nil || errB != nil {
		return (errA != nil) == (errB != nil)
	}
	return ca == cb
}

// dummyPasswordHash is a bcrypt hash verified against for unknown users
// until the Model has seen a stored hash.
// It is made on first use: bcrypt costs tens of milliseconds.
var dummyPasswordHash = sync.OnceValue(func() string {
	h, err := oauth2server.HashPassword("mongomodel: no such user")
	if err != nil {
		return oauth2server.HashSecret("mongomodel: no such user")
	}
	return h
})

// GetUserFromClient implements [oauth2server.ClientUserModel]: the user set
// with [Model.SetClientUser], or nil. For the Client that GetClient
// returned moments before (the Server passes it on), that is what the
// client's document said: no round trip. For another Client value it reads
// the client's document, and the user too when the document has only its
// username.
func (m *Model) GetUserFromClient(ctx context.Context, c *oauth2server.Client) (*oauth2server.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("get user from client", err)
	}
	if u, ok := m.clientUsers.take(c); ok {
		return u, nil
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	var cd clientDoc
	found, err := findOne(ctx, m.clients, bson.D{{Key: "_id", Value: c.ID}}, &cd,
		options.FindOne().SetProjection(bson.D{{Key: "user", Value: 1}, {Key: "clientUser", Value: 1}}))
	if err != nil || !found || cd.User == "" {
		return nil, wrapIf("get user from client", err)
	}
	if cd.ClientUser != nil {
		return cd.ClientUser.user(), nil
	}
	var d userDoc
	found, err = findOne(ctx, m.users, bson.D{{Key: "username", Value: cd.User}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get user from client", err)
	}
	return d.user(), nil
}

// wrapIf wraps err when it is not nil.
func wrapIf(op string, err error) error {
	if err == nil {
		return nil
	}
	return wrap(op, err)
}
