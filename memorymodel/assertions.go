package memorymodel

import (
	"bytes"
	"context"
	stderrors "errors"
	"fmt"
	"slices"
	"sync"

	"github.com/echo-oauth2/oauth2server"
)

var (
	_ oauth2server.ClientSecretModel  = (*Model)(nil)
	_ oauth2server.TrustedIssuerModel = (*Model)(nil)
)

// assertionStore holds what client assertions and assertion grants need:
// the secrets of client_secret_jwt clients, the trusted issuers and the
// users their subjects stand for. Its lock is its own; the zero value is
// ready.
type assertionStore struct {
	mu       sync.RWMutex
	secrets  map[string][]byte                       // client id -> secret
	issuers  map[string]*oauth2server.TrustedIssuer  // by issuer identifier
	subjects map[issuerSubject]string                // -> username
	policies map[string]*oauth2server.ExchangePolicy // by client id (exchange.go)
}

type issuerSubject struct{ issuer, subject string }

// SetClientSecret stores the secret of a client registered with
// client_secret_jwt ([oauth2server.ClientSecretModel]), which the Server
// needs in usable form to check the MAC of its assertions. An unknown
// client is an error. The model keeps it in process memory; a database
// model must store it encrypted.
func (m *Model) SetClientSecret(ctx context.Context, clientID string, secret []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := m.clients.load(clientID); !ok {
		return fmt.Errorf("memorymodel: set client secret: no client %q", clientID)
	}
	a := &m.assertions
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.secrets == nil {
		a.secrets = make(map[string][]byte)
	}
	a.secrets[clientID] = bytes.Clone(secret)
	return nil
}

// GetClientSecret implements [oauth2server.ClientSecretModel].
func (m *Model) GetClientSecret(ctx context.Context, client *oauth2server.Client) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &m.assertions
	a.mu.RLock()
	defer a.mu.RUnlock()
	return bytes.Clone(a.secrets[client.ID]), nil
}

// AddTrustedIssuer registers an issuer whose JWTs the Server accepts in
// the JWT bearer grant and in token exchange
// ([oauth2server.TrustedIssuerModel]), replacing one with the same
// identifier.
func (m *Model) AddTrustedIssuer(ctx context.Context, ti *oauth2server.TrustedIssuer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ti == nil || ti.Issuer == "" {
		return stderrors.New("memorymodel: trusted issuer has no identifier")
	}
	a := &m.assertions
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.issuers == nil {
		a.issuers = make(map[string]*oauth2server.TrustedIssuer)
	}
	a.issuers[ti.Issuer] = cloneIssuer(ti)
	return nil
}

// MapIssuerSubject makes the user with the given username the one that
// subject, the "sub" of a JWT of issuer, stands for. The issuer must be
// registered.
func (m *Model) MapIssuerSubject(ctx context.Context, issuer, subject, username string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a := &m.assertions
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.issuers[issuer]; !ok {
		return fmt.Errorf("memorymodel: map issuer subject: no trusted issuer %q", issuer)
	}
	if a.subjects == nil {
		a.subjects = make(map[issuerSubject]string)
	}
	a.subjects[issuerSubject{issuer, subject}] = username
	return nil
}

// GetTrustedIssuer implements [oauth2server.TrustedIssuerModel].
func (m *Model) GetTrustedIssuer(ctx context.Context, issuer string) (*oauth2server.TrustedIssuer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &m.assertions
	a.mu.RLock()
	defer a.mu.RUnlock()
	ti, ok := a.issuers[issuer]
	if !ok {
		return nil, nil
	}
	return cloneIssuer(ti), nil
}

// GetSubjectUser implements [oauth2server.TrustedIssuerModel]: the user
// mapped with MapIssuerSubject, or nil.
func (m *Model) GetSubjectUser(ctx context.Context, issuer *oauth2server.TrustedIssuer, subject string) (*oauth2server.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &m.assertions
	a.mu.RLock()
	name, ok := a.subjects[issuerSubject{issuer.Issuer, subject}]
	a.mu.RUnlock()
	if !ok {
		return nil, nil
	}
	rec, ok := m.users.load(name)
	if !ok {
		return nil, nil
	}
	return cloneUser(&rec.user), nil
}

func cloneIssuer(ti *oauth2server.TrustedIssuer) *oauth2server.TrustedIssuer {
	cp := *ti
	cp.Scopes = slices.Clone(ti.Scopes)
	cp.ClientIDs = slices.Clone(ti.ClientIDs)
	cp.Audiences = slices.Clone(ti.Audiences)
	return &cp
}
