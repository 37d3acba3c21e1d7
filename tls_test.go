package oauth2server_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// with RequireTLS every endpoint
// refuses plain HTTP, believes X-Forwarded-Proto only from a trusted proxy,
// and shows (never redirects) the error at the authorization endpoint.
func TestRequireTLS(t *testing.T) {
	t.Parallel()
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "svc", SecretHash: oauth2server.HashSecret("s"),
		Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}}))
	srv, err := oauth2server.New(m, oauth2server.Options{RequireTLS: true,
		TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7"}})
	require.NoError(t, err)

	tokenReq := func(remote string, withTLS bool, proto ...string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader("grant_type=client_credentials"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("svc", "s")
		r.RemoteAddr = remote
		if !withTLS {
			r.TLS = nil
		} else {
			r.TLS = &tls.ConnectionState{}
		}
		for _, p := range proto {
			r.Header.Add("X-Forwarded-Proto", p)
		}
		return r
	}
	tests := []struct {
		name      string
		givenReq  *http.Request
		expectErr bool
	}{
		{name: "ok, TLS", givenReq: tokenReq("203.0.113.5:4000", true)},
		{name: "ok, trusted proxy range says https", givenReq: tokenReq("10.1.2.3:4000", false, "https")},
		{name: "ok, trusted proxy address says HTTPS", givenReq: tokenReq("192.0.2.7:4000", false, "HTTPS")},
		{name: "nok, plain HTTP", givenReq: tokenReq("203.0.113.5:4000", false), expectErr: true},
		{name: "nok, untrusted peer says https", givenReq: tokenReq("203.0.113.5:4000", false, "https"), expectErr: true},
		{name: "nok, trusted proxy says http", givenReq: tokenReq("10.1.2.3:4000", false, "http"), expectErr: true},
		{name: "nok, trusted proxy sends two values", givenReq: tokenReq("10.1.2.3:4000", false, "https", "http"), expectErr: true},
		{name: "nok, trusted proxy sends none", givenReq: tokenReq("10.1.2.3:4000", false), expectErr: true},
		{name: "nok, unparsable remote address", givenReq: tokenReq("nonsense", false, "https"), expectErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := srv.Token(tc.givenReq)
			if !tc.expectErr {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, oerrors.ErrInvalidRequest)
			assert.Equal(t, "The endpoint requires TLS (https).", oerrors.From(err).Description)
		})
	}

	plain := func(method, target, body string) *http.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("svc", "s")
		return r
	}
	t.Run("nok, revocation over plain HTTP", func(t *testing.T) {
		assert.ErrorIs(t, srv.Revoke(plain(http.MethodPost, "/revoke", "token=x")), oerrors.ErrInvalidRequest)
	})
	t.Run("nok, introspection over plain HTTP", func(t *testing.T) {
		_, err := srv.Introspect(plain(http.MethodPost, "/introspect", "token=x"))
		assert.ErrorIs(t, err, oerrors.ErrInvalidRequest)
	})
	t.Run("nok, authorization endpoint over plain HTTP is shown, not redirected", func(t *testing.T) {
		_, err := srv.ValidateAuthorizeRequest(plain(http.MethodGet, "/authorize?client_id=svc&response_type=code&state=s", ""))
		var ae *oauth2server.AuthorizeError
		require.ErrorAs(t, err, &ae)
		assert.True(t, ae.ShowToUser())
		assert.Empty(t, ae.RedirectURL())
	})
}

func TestRequireTLSOffByDefault(t *testing.T) {
	t.Parallel()
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{})
	require.NoError(t, err)
	assert.NoError(t, srv.CheckTLS(httptest.NewRequest(http.MethodPost, "/token", nil)))
}

func TestTrustedProxiesInvalid(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.1/x"} {
		_, err := oauth2server.New(memorymodel.New(), oauth2server.Options{TrustedProxies: []string{bad}})
		assert.ErrorContains(t, err, "TrustedProxies", bad)
	}
}
