package oauth2server

// The models of the internal tests. The external tests' fixture is in
// helpers_test.go; test data both need is in export_test.go.

import (
	"context"
	stderrors "errors"
	"time"
)

// redirectModel serves fixed clients and finds no token; its
// RedirectURIValidator allows one URI, or fails.
type redirectModel struct {
	clients map[string]*Client
	allow   string
	fail    bool
}

func (m *redirectModel) GetClient(_ context.Context, id string) (*Client, error) {
	return m.clients[id], nil
}

func (m *redirectModel) SaveToken(context.Context, *Token, *Client, *User) error { return nil }

func (m *redirectModel) GetAccessToken(context.Context, string) (*Token, error) { return nil, nil }

func (m *redirectModel) ValidateRedirectURI(_ context.Context, uri string, _ *Client) (bool, error) {
	if m.fail {
		return false, stderrors.New("boom")
	}
	return uri == m.allow, nil
}

// nopModel stores nothing and finds nothing; with RevokedJTIModel it is
// enough for New with JWT access tokens.
type nopModel struct{}

func (nopModel) GetClient(_ context.Context, _ string) (*Client, error) { return nil, nil }

func (nopModel) SaveToken(_ context.Context, _ *Token, _ *Client, _ *User) error {
	return nil
}

func (nopModel) IsJTIRevoked(_ context.Context, _ string) (bool, error) { return false, nil }

func (nopModel) RevokeJTI(_ context.Context, _ string, _ time.Time) error {
	return nil
}
