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
// codes, and the single decision on a device request, are decided by a
// unique-key insert, which is atomic on every server that speaks the
// MongoDB protocol; see [Model.RevokeAuthorizationCode] and
// [Model.SetDeviceDecision]. So is every add to a throttle counter
// ([Model.AddCounter]).
//
// Collections (names prefixed with [Options.CollectionPrefix]):
//
//	clients       _id = client id
//	users         _id = user id, unique username
//	tokens        one document per Token: _id = digest of the access token,
//	              refresh = digest of the refresh token (unique), jti = Token.ID
//	codes         _id = digest of the code
//	grants        tombstones of revoked grant families, _id = grant id
//	claims        single-use claims, _id = "c:" or "t:" + the item's _id;
//	              device decisions ("d:") and redemptions ("r:")
//	revoked_jtis  deny-list of JWT access tokens, _id = jti
//	devices       device authorization requests, _id = digest of the
//	              device code, user = digest of the user code (unique)
//	consents      remembered consent, _id = client id and user id
//	counters      throttle counters, one document per add: _id = key + "#"
//	              + n, the n-th add to the counter named key
//	pushed_requests
//	              pushed authorization requests, _id = digest of the
//	              request_uri; consumed by a claim ("p:")
package mongomodel

import (
	"context"
	stderrors "errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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
	// GrantTombstoneLifetime is how long a revoked grant family is
	// remembered, so that a token of that family saved later is stored
	// revoked. It must exceed the longest refresh token lifetime in use.
	// Optional. Default 90 days.
	GrantTombstoneLifetime time.Duration
	// Now is the clock used for tombstone and claim expiry and by
	// [Model.DeleteExpired]; counters go by the now their caller passes.
	// Optional. Default time.Now.
	Now func() time.Time
}

// Model is a MongoDB model. Create it with [New]; it is safe for concurrent
// use. The *mongo.Database, and the client behind it, belong to the caller.
type Model struct {
	opts Options

	clients, users, tokens, codes, grants, claims, jtis, devices, consents, counters *mongo.Collection
	// pushed holds pushed authorization requests (par.go).
	pushed *mongo.Collection

	ttl atomic.Bool // TTL indexes exist (set by EnsureIndexes)

	// dummy is the hash verified against for unknown users: like the
	// last password hash this Model stored or read, so an unknown name
	// costs what a known one does whichever hash kind the users have.
	dummy atomic.Pointer[string]
}

// New returns a Model storing its collections in db. Call
// [Model.EnsureIndexes] once at startup (it is idempotent).
//
// For several server instances, give the client a majority write concern
// and read from the primary (the driver defaults on a replica set), so
// that a revocation written by one instance is seen by the next request on
// another.
func New(db *mongo.Database, opts Options) *Model {
	if opts.CollectionPrefix == "" {
		opts.CollectionPrefix = DefaultCollectionPrefix
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.GrantTombstoneLifetime <= 0 {
		opts.GrantTombstoneLifetime = DefaultGrantTombstoneLifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := func(name string) *mongo.Collection { return db.Collection(opts.CollectionPrefix + name) }
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
	if m.opts.Timeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, m.opts.Timeout)
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
func (m *Model) SetClientUser(ctx context.Context, clientID, username string) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	res, err := m.clients.UpdateOne(ctx, bson.D{{Key: "_id", Value: clientID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "user", Value: username}}}})
	if err != nil {
		return wrap("set client user", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongomodel: set client user: no client %q", clientID)
	}
	return nil
}

// GetClient implements [oauth2server.Model].
func (m *Model) GetClient(ctx context.Context, clientID string) (*oauth2server.Client, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d clientDoc
	found, err := findOne(ctx, m.clients, bson.D{{Key: "_id", Value: clientID}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get client", err)
	}
	return d.client(), nil
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
// with [Model.SetClientUser], or nil.
func (m *Model) GetUserFromClient(ctx context.Context, c *oauth2server.Client) (*oauth2server.User, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var cd struct {
		User string `bson:"user"`
	}
	found, err := findOne(ctx, m.clients, bson.D{{Key: "_id", Value: c.ID}}, &cd,
		options.FindOne().SetProjection(bson.D{{Key: "user", Value: 1}}))
	if err != nil || !found || cd.User == "" {
		return nil, wrapIf("get user from client", err)
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
