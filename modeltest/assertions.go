package modeltest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// testClientSecrets checks [oauth2server.ClientSecretModel]: the usable
// secret of a client_secret_jwt client, which the Server needs to check
// the MAC of its assertions.
func testClientSecrets(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.ClientSecretModel](t, newSetup, "ClientSecretModel")
	ctx := context.Background()
	secret := []byte("0123456789abcdef0123456789abcdef-and-more")
	// setup returns the model and a client_secret_jwt client with secret.
	setup := func(t *testing.T) (Setup, oauth2server.ClientSecretModel, *oauth2server.Client) {
		s := newSetup(t)
		m := need[oauth2server.ClientSecretModel](t, s, "ClientSecretModel")
		if s.SetClientSecret == nil {
			s.skip(t, "Setup.SetClientSecret is nil")
		}
		c := &oauth2server.Client{ID: random("csjwt-"), TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretJWT,
			Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}}
		require.NoError(t, s.AddClient(ctx, c))
		require.NoError(t, s.SetClientSecret(ctx, c.ID, secret))
		return s, m, c
	}

	t.Run("ok, the secret round trips; a client without one has nil", func(t *testing.T) {
		s, m, c := setup(t)
		got, err := m.GetClientSecret(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, secret, got)
		other := fullClient()
		require.NoError(t, s.AddClient(ctx, other))
		got, err = m.GetClientSecret(ctx, other)
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, a second SetClientSecret replaces the secret", func(t *testing.T) {
		s, m, c := setup(t)
		next := []byte("fedcba9876543210fedcba9876543210")
		require.NoError(t, s.SetClientSecret(ctx, c.ID, next))
		got, err := m.GetClientSecret(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, next, got)
	})

	t.Run("ok, changing a returned or a given secret does not change the store", func(t *testing.T) {
		s, m, c := setup(t)
		given := []byte("0123456789abcdef0123456789abcdef")
		require.NoError(t, s.SetClientSecret(ctx, c.ID, given))
		given[0] = 'X'
		got, err := m.GetClientSecret(ctx, c)
		require.NoError(t, err)
		got[1] = 'Y'
		again, err := m.GetClientSecret(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, []byte("0123456789abcdef0123456789abcdef"), again)
	})

	t.Run("nok, SetClientSecret of an unknown client is an error", func(t *testing.T) {
		s, _, _ := setup(t)
		assert.Error(t, s.SetClientSecret(ctx, random("ghost-"), secret))
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		_, m, c := setup(t)
		got, err := m.GetClientSecret(cancelled(), c)
		assert.Error(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, the client authenticates with client_secret_jwt at a Server", func(t *testing.T) {
		// the Server checks the MAC with the secret the model
		// returns.
		s, _, c := setup(t)
		need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		srv, err := oauth2server.New(s.Model, oauth2server.Options{Issuer: "https://as.example"})
		require.NoError(t, err)
		send := func(key []byte) int {
			raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": c.ID, "sub": c.ID,
				"aud": "https://as.example", "exp": time.Now().Add(time.Minute).Unix(), "jti": random("jti-")}).SignedString(key)
			require.NoError(t, err)
			status, body := postForm(t, srv, url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {oauth2server.ClientAssertionTypeJWTBearer}, "client_assertion": {raw}})
			if status != http.StatusOK {
				assert.Equal(t, "invalid_client", body["error"])
			}
			return status
		}
		assert.Equal(t, http.StatusOK, send(secret))
		assert.Equal(t, http.StatusUnauthorized, send([]byte("another secret of thirty-two bytes!")))
	})
}

// postForm sends an unauthenticated form to the token endpoint of srv
// and returns the status and the decoded JSON body.
func postForm(t *testing.T, srv *oauth2server.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	nethttp.Token(srv).ServeHTTP(rec, req)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

// fullIssuer is a trusted issuer with every field set.
func fullIssuer() *oauth2server.TrustedIssuer {
	return &oauth2server.TrustedIssuer{
		Issuer:               "https://" + random("idp-") + ".example",
		JWKS:                 `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		JWKSURI:              "https://idp.example/jwks.json",
		Algorithm:            oauth2server.AlgEdDSA,
		Scopes:               []string{"read", "write"},
		ClientIDs:            []string{"a", "b"},
		Audiences:            []string{"https://as.example/token"},
		MaxAssertionLifetime: 10 * time.Minute,
	}
}

// testTrustedIssuers checks [oauth2server.TrustedIssuerModel]: the issuers
// of JWT bearer assertions and foreign subject tokens, and the local users
// their subjects stand for.
func testTrustedIssuers(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.TrustedIssuerModel](t, newSetup, "TrustedIssuerModel")
	ctx := context.Background()
	setup := func(t *testing.T) (Setup, oauth2server.TrustedIssuerModel, *oauth2server.TrustedIssuer) {
		s := newSetup(t)
		m := need[oauth2server.TrustedIssuerModel](t, s, "TrustedIssuerModel")
		if s.AddTrustedIssuer == nil || s.MapIssuerSubject == nil {
			s.skip(t, "Setup.AddTrustedIssuer or Setup.MapIssuerSubject is nil")
		}
		ti := fullIssuer()
		require.NoError(t, s.AddTrustedIssuer(ctx, ti))
		return s, m, ti
	}
	// user adds a user to map subjects to.
	user := func(t *testing.T, s Setup) *oauth2server.User {
		t.Helper()
		if s.AddUser == nil {
			s.skip(t, "Setup.AddUser is nil")
		}
		u := &oauth2server.User{ID: random("user-"), Username: random("name-")}
		require.NoError(t, s.AddUser(ctx, u, oauth2server.HashSecret("pw")))
		return u
	}

	t.Run("ok, issuer round trip", func(t *testing.T) {
		_, m, want := setup(t)
		got, err := m.GetTrustedIssuer(ctx, want.Issuer)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, want.Issuer, got.Issuer)
		assert.Equal(t, want.JWKS, got.JWKS)
		assert.Equal(t, want.JWKSURI, got.JWKSURI)
		assert.Equal(t, want.Algorithm, got.Algorithm)
		assertStrings(t, want.Scopes, got.Scopes, "Scopes")
		assertStrings(t, want.ClientIDs, got.ClientIDs, "ClientIDs")
		assertStrings(t, want.Audiences, got.Audiences, "Audiences")
		assert.Equal(t, want.MaxAssertionLifetime, got.MaxAssertionLifetime)
	})

	t.Run("ok, an unknown issuer is nil; identifiers are compared exactly", func(t *testing.T) {
		_, m, ti := setup(t)
		for _, iss := range []string{"https://nobody.example", ti.Issuer + "/", strings.ToUpper(ti.Issuer), ""} {
			got, err := m.GetTrustedIssuer(ctx, iss)
			require.NoError(t, err)
			assert.Nil(t, got, iss)
		}
	})

	t.Run("ok, adding an issuer again replaces it", func(t *testing.T) {
		s, m, ti := setup(t)
		next := fullIssuer()
		next.Issuer, next.Scopes, next.JWKSURI = ti.Issuer, []string{"read"}, ""
		require.NoError(t, s.AddTrustedIssuer(ctx, next))
		got, err := m.GetTrustedIssuer(ctx, ti.Issuer)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, []string{"read"}, got.Scopes)
		assert.Empty(t, got.JWKSURI)
	})

	t.Run("ok, changing a returned issuer does not change the store", func(t *testing.T) {
		_, m, ti := setup(t)
		got, err := m.GetTrustedIssuer(ctx, ti.Issuer)
		require.NoError(t, err)
		got.Scopes[0] = "admin"
		got.JWKS = "changed"
		again, err := m.GetTrustedIssuer(ctx, ti.Issuer)
		require.NoError(t, err)
		assert.Equal(t, ti.Scopes, again.Scopes)
		assert.Equal(t, ti.JWKS, again.JWKS)
	})

	t.Run("ok, a mapped subject is its user, nothing else is anyone", func(t *testing.T) {
		// sub is the principal, as the model maps it.
		s, m, ti := setup(t)
		u := user(t, s)
		require.NoError(t, s.MapIssuerSubject(ctx, ti.Issuer, "sub-1", u.Username))
		got, err := m.GetSubjectUser(ctx, ti, "sub-1")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, u.ID, got.ID)
		assert.Equal(t, u.Username, got.Username)

		other := fullIssuer()
		require.NoError(t, s.AddTrustedIssuer(ctx, other))
		for name, lookup := range map[string]struct {
			ti  *oauth2server.TrustedIssuer
			sub string
		}{
			"an unmapped subject":             {ti, "sub-2"},
			"the subject at another issuer":   {other, "sub-1"},
			"the user's ID is not a subject":  {ti, u.ID},
			"a subject that differs in case":  {ti, "SUB-1"},
			"the empty subject of the issuer": {ti, ""},
		} {
			got, err := m.GetSubjectUser(ctx, lookup.ti, lookup.sub)
			require.NoError(t, err, name)
			assert.Nil(t, got, name)
		}
	})

	t.Run("ok, a subject mapped to a username nobody has is nobody", func(t *testing.T) {
		s, m, ti := setup(t)
		require.NoError(t, s.MapIssuerSubject(ctx, ti.Issuer, "sub-1", random("ghost-")))
		got, err := m.GetSubjectUser(ctx, ti, "sub-1")
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, the JWT bearer grant of a Server issues a token for the mapped user", func(t *testing.T) {
		// the Server reads the issuer's keys and the subject's user
		// from the model.
		s, _, _ := setup(t)
		need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		u := user(t, s)
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		raw, err := key.PublicKey.Bytes()
		require.NoError(t, err)
		b64 := base64.RawURLEncoding.EncodeToString
		ti := &oauth2server.TrustedIssuer{Issuer: "https://" + random("idp-") + ".example",
			JWKS: `{"keys":[{"kty":"EC","crv":"P-256","x":"` + b64(raw[1:33]) + `","y":"` + b64(raw[33:]) + `"}]}`}
		require.NoError(t, s.AddTrustedIssuer(ctx, ti))
		require.NoError(t, s.MapIssuerSubject(ctx, ti.Issuer, "sub-1", u.Username))
		c := &oauth2server.Client{ID: random("app-"), Grants: []string{oauth2server.GrantJWTBearer}, Scopes: []string{"read"}}
		require.NoError(t, s.AddClient(ctx, c))
		srv, err := oauth2server.New(s.Model, oauth2server.Options{Issuer: "https://as.example",
			RequireClientAuthentication: map[string]bool{oauth2server.GrantJWTBearer: false}})
		require.NoError(t, err)
		assertion, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": ti.Issuer, "sub": "sub-1",
			"aud": "https://as.example", "exp": time.Now().Add(time.Minute).Unix(), "jti": random("jti-")}).SignedString(key)
		require.NoError(t, err)
		status, body := postForm(t, srv, url.Values{"grant_type": {oauth2server.GrantJWTBearer}, "assertion": {assertion},
			"client_id": {c.ID}})
		require.Equal(t, http.StatusOK, status, body)
		at := need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		tok, err := at.GetAccessToken(ctx, body["access_token"].(string))
		require.NoError(t, err)
		require.NotNil(t, tok)
		assert.Equal(t, u.ID, tok.UserID)
		assert.Equal(t, []string{"read"}, tok.Scope)
	})

	t.Run("nok, mapping a subject of an unregistered issuer is an error", func(t *testing.T) {
		s, _, _ := setup(t)
		assert.Error(t, s.MapIssuerSubject(ctx, "https://nobody.example", "sub", "name"))
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		_, m, ti := setup(t)
		got, err := m.GetTrustedIssuer(cancelled(), ti.Issuer)
		assert.Error(t, err)
		assert.Nil(t, got)
		u, err := m.GetSubjectUser(cancelled(), ti, "sub")
		assert.Error(t, err)
		assert.Nil(t, u)
	})
}
