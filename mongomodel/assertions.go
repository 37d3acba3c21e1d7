package mongomodel

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	stderrors "errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/echo-oauth2/oauth2server"
)

var (
	_ oauth2server.ClientSecretModel  = (*Model)(nil)
	_ oauth2server.TrustedIssuerModel = (*Model)(nil)
)

// The collections of client assertions and assertion grants, named like
// the others (with Options.CollectionPrefix):
//
//	client_secrets   _id = client id; the AES-256-GCM sealed secret of a
//	                 client_secret_jwt client
//	trusted_issuers  _id = issuer identifier
//	issuer_subjects  _id = the issuer's length, ":", issuer and subject;
//	                 username of the local user the subject stands for
//
// They write and read as the others do ([Options.WriteConcern], the
// primary).
func (m *Model) coll(name string) *mongo.Collection {
	return m.clients.Database().Collection(m.opts.CollectionPrefix+name,
		options.Collection().SetWriteConcern(m.opts.WriteConcern).SetReadPreference(readpref.Primary()))
}

// errNoSecretKey is returned by SetClientSecret without a key to seal with.
var errNoSecretKey = stderrors.New("mongomodel: client secrets need Options.ClientSecretKeys")

// secretDoc is a sealed client secret: a GCM nonce and the ciphertext,
// whose additional data is the client id, so a sealed secret moved to
// another client's document does not open.
type secretDoc struct {
	ID     string `bson:"_id"`
	Nonce  []byte `bson:"nonce"`
	Sealed []byte `bson:"sealed"`
}

// secretKeys returns the AEADs of Options.ClientSecretKeys, the first one
// sealing.
func (m *Model) secretKeys() ([]cipher.AEAD, error) {
	out := make([]cipher.AEAD, 0, len(m.opts.ClientSecretKeys))
	for i, k := range m.opts.ClientSecretKeys {
		if len(k) != 32 {
			return nil, fmt.Errorf("mongomodel: ClientSecretKeys[%d] has %d bytes; AES-256 needs 32", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("mongomodel: ClientSecretKeys[%d]: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("mongomodel: ClientSecretKeys[%d]: %w", i, err)
		}
		out = append(out, aead)
	}
	return out, nil
}

// SetClientSecret stores the secret of a client registered with
// client_secret_jwt ([oauth2server.ClientSecretModel]), which the Server
// needs in usable form to check the MAC of its assertions. It is sealed
// with AES-256-GCM under the first of [Options.ClientSecretKeys], never
// stored in clear. An unknown client is an error.
func (m *Model) SetClientSecret(ctx context.Context, clientID string, secret []byte) error {
	keys, err := m.secretKeys()
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errNoSecretKey
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	n, err := m.clients.CountDocuments(ctx, bson.D{{Key: "_id", Value: clientID}})
	if err != nil {
		return wrap("set client secret", err)
	}
	if n == 0 {
		return fmt.Errorf("mongomodel: set client secret: no client %q", clientID)
	}
	nonce := make([]byte, keys[0].NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("mongomodel: set client secret: %w", err)
	}
	d := secretDoc{ID: clientID, Nonce: nonce, Sealed: keys[0].Seal(nil, nonce, secret, []byte(clientID))}
	_, err = m.coll("client_secrets").ReplaceOne(ctx, bson.D{{Key: "_id", Value: clientID}}, d, options.Replace().SetUpsert(true))
	return wrapIf("set client secret", err)
}

// GetClientSecret implements [oauth2server.ClientSecretModel]: the secret
// set with SetClientSecret, opened with whichever of
// [Options.ClientSecretKeys] sealed it (so keys can be rotated), or nil
// when the client has none. A secret no key opens is an error.
func (m *Model) GetClientSecret(ctx context.Context, client *oauth2server.Client) ([]byte, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d secretDoc
	found, err := findOne(ctx, m.coll("client_secrets"), bson.D{{Key: "_id", Value: client.ID}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get client secret", err)
	}
	keys, err := m.secretKeys()
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if len(d.Nonce) != k.NonceSize() {
			continue
		}
		if secret, err := k.Open(nil, d.Nonce, d.Sealed, []byte(client.ID)); err == nil {
			return secret, nil
		}
	}
	return nil, fmt.Errorf("mongomodel: get client secret: no key of ClientSecretKeys opens the secret of %q", client.ID)
}

// issuerDoc is a [oauth2server.TrustedIssuer].
type issuerDoc struct {
	ID                   string        `bson:"_id"`
	JWKS                 string        `bson:"jwks,omitempty"`
	JWKSURI              string        `bson:"jwksUri,omitempty"`
	Algorithm            string        `bson:"alg,omitempty"`
	Scopes               []string      `bson:"scopes,omitempty"`
	ClientIDs            []string      `bson:"clientIds,omitempty"`
	Audiences            []string      `bson:"audiences,omitempty"`
	MaxAssertionLifetime time.Duration `bson:"maxAssertionLifetime,omitempty"`
}

// AddTrustedIssuer registers an issuer whose JWTs the Server accepts in
// the JWT bearer grant and in token exchange
// ([oauth2server.TrustedIssuerModel]), replacing one with the same
// identifier.
func (m *Model) AddTrustedIssuer(ctx context.Context, ti *oauth2server.TrustedIssuer) error {
	if ti == nil || ti.Issuer == "" {
		return stderrors.New("mongomodel: trusted issuer has no identifier")
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	d := issuerDoc{ID: ti.Issuer, JWKS: ti.JWKS, JWKSURI: ti.JWKSURI, Algorithm: ti.Algorithm, Scopes: ti.Scopes,
		ClientIDs: ti.ClientIDs, Audiences: ti.Audiences, MaxAssertionLifetime: ti.MaxAssertionLifetime}
	_, err := m.coll("trusted_issuers").ReplaceOne(ctx, bson.D{{Key: "_id", Value: ti.Issuer}}, d, options.Replace().SetUpsert(true))
	return wrapIf("add trusted issuer", err)
}

// GetTrustedIssuer implements [oauth2server.TrustedIssuerModel].
func (m *Model) GetTrustedIssuer(ctx context.Context, issuer string) (*oauth2server.TrustedIssuer, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d issuerDoc
	found, err := findOne(ctx, m.coll("trusted_issuers"), bson.D{{Key: "_id", Value: issuer}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get trusted issuer", err)
	}
	return &oauth2server.TrustedIssuer{Issuer: d.ID, JWKS: d.JWKS, JWKSURI: d.JWKSURI, Algorithm: d.Algorithm,
		Scopes: d.Scopes, ClientIDs: d.ClientIDs, Audiences: d.Audiences, MaxAssertionLifetime: d.MaxAssertionLifetime}, nil
}

// subjectID is the _id of a subject's mapping: unambiguous whatever
// characters issuer and subject contain.
func subjectID(issuer, subject string) string {
	return strconv.Itoa(len(issuer)) + ":" + issuer + subject
}

// MapIssuerSubject makes the user with the given username the one that
// subject, the "sub" of a JWT of issuer, stands for. The issuer must be
// registered.
func (m *Model) MapIssuerSubject(ctx context.Context, issuer, subject, username string) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	n, err := m.coll("trusted_issuers").CountDocuments(ctx, bson.D{{Key: "_id", Value: issuer}})
	if err != nil {
		return wrap("map issuer subject", err)
	}
	if n == 0 {
		return fmt.Errorf("mongomodel: map issuer subject: no trusted issuer %q", issuer)
	}
	_, err = m.coll("issuer_subjects").ReplaceOne(ctx, bson.D{{Key: "_id", Value: subjectID(issuer, subject)}},
		bson.D{{Key: "username", Value: username}}, options.Replace().SetUpsert(true))
	return wrapIf("map issuer subject", err)
}

// GetSubjectUser implements [oauth2server.TrustedIssuerModel]: the user
// mapped with MapIssuerSubject, or nil.
func (m *Model) GetSubjectUser(ctx context.Context, issuer *oauth2server.TrustedIssuer, subject string) (*oauth2server.User, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var s struct {
		Username string `bson:"username"`
	}
	found, err := findOne(ctx, m.coll("issuer_subjects"), bson.D{{Key: "_id", Value: subjectID(issuer.Issuer, subject)}}, &s)
	if err != nil || !found {
		return nil, wrapIf("get subject user", err)
	}
	var d userDoc
	found, err = findOne(ctx, m.users, bson.D{{Key: "username", Value: s.Username}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get subject user", err)
	}
	return d.user(), nil
}
