package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/storage"
)

// fositeProvider is github.com/ory/fosite composed with every handler
// (compose.ComposeAllEnabled), its MemoryStore and HMAC-SHA opaque tokens
// of 32 bytes of entropy. Its client secret hasher is bcrypt by default;
// here it is SHA-256 with a constant-time compare, the same work
// oauth2server's HashSecret/VerifySecret do, so that bcrypt's deliberate
// cost does not decide the comparison.
type fositeProvider struct {
	provider fosite.OAuth2Provider
	echo     *echo.Echo
}

// fositeSHA256 is a fosite.Hasher with oauth2server's secret hashing.
type fositeSHA256 struct{}

func (fositeSHA256) Hash(_ context.Context, data []byte) ([]byte, error) {
	return sha256Hash(string(data)), nil
}

func (fositeSHA256) Compare(_ context.Context, hash, data []byte) error {
	if !sha256Equal(hash, string(data)) {
		return errors.New("secret mismatch")
	}
	return nil
}

func newFositeSession() *openid.DefaultSession {
	s := openid.NewDefaultSession()
	s.Subject = userID
	return s
}

func newFosite(tb testing.TB) *fositeProvider {
	// The key signs OpenID Connect ID tokens, which no benchmark asks for.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	cfg := &fosite.Config{
		AccessTokenLifespan:   accessLifetime,
		RefreshTokenLifespan:  refreshLifetime,
		AuthorizeCodeLifespan: codeLifetime,
		GlobalSecret:          secret,
		ClientSecretsHasher:   fositeSHA256{},
		// Issue refresh tokens on every code exchange, as the others do.
		RefreshTokenScopes: []string{},
		EnforcePKCE:        true,
	}
	store := storage.NewMemoryStore()
	store.Clients[clientID] = &fosite.DefaultClient{
		ID:            clientID,
		Secret:        sha256Hash(clientSecret),
		RedirectURIs:  []string{redirectURI},
		GrantTypes:    []string{"client_credentials", "authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"},
		Scopes:        []string{scope},
	}
	p := compose.ComposeAllEnabled(cfg, store, key)

	e := echo.New()
	e.POST("/token", func(c echo.Context) error {
		ctx := c.Request().Context()
		w := c.Response()
		ar, err := p.NewAccessRequest(ctx, c.Request(), newFositeSession())
		if err != nil {
			p.WriteAccessError(ctx, w, ar, err)
			return nil
		}
		if ar.GetGrantTypes().ExactOne("client_credentials") {
			for _, s := range ar.GetRequestedScopes() {
				ar.GrantScope(s)
			}
		}
		resp, err := p.NewAccessResponse(ctx, ar)
		if err != nil {
			p.WriteAccessError(ctx, w, ar, err)
			return nil
		}
		p.WriteAccessResponse(ctx, w, ar, resp)
		return nil
	})
	e.POST("/introspect", func(c echo.Context) error {
		ctx := c.Request().Context()
		ir, err := p.NewIntrospectionRequest(ctx, c.Request(), newFositeSession())
		if err != nil {
			p.WriteIntrospectionError(ctx, c.Response(), err)
			return nil
		}
		p.WriteIntrospectionResponse(ctx, c.Response(), ir)
		return nil
	})
	e.GET("/api/me", meHandler, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			tok := fosite.AccessTokenFromRequest(r)
			if _, _, err := p.IntrospectToken(r.Context(), tok, fosite.AccessToken, newFositeSession(), scope); err != nil {
				return echo.NewHTTPError(http.StatusUnauthorized)
			}
			return next(c)
		}
	})
	return &fositeProvider{provider: p, echo: e}
}

func (f *fositeProvider) handler() http.Handler { return f.echo }

// newCodes runs fosite's own authorization endpoint API to issue codes.
func (f *fositeProvider) newCodes(tb testing.TB, n int) []string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {scope},
		"state":                 {"state-12345678"},
		"code_challenge":        {pkceChallenge},
		"code_challenge_method": {"S256"},
	}
	target := "/auth?" + q.Encode()
	ctx := context.Background()
	codes := make([]string, n)
	for i := range codes {
		r := requestTemplate(http.MethodGet, target)
		ar, err := f.provider.NewAuthorizeRequest(ctx, r)
		if err != nil {
			tb.Fatal(err)
		}
		ar.GrantScope(scope)
		resp, err := f.provider.NewAuthorizeResponse(ctx, ar, newFositeSession())
		if err != nil {
			tb.Fatal(err)
		}
		codes[i] = resp.GetCode()
	}
	return codes
}

func (f *fositeProvider) newRefreshToken(tb testing.TB) string {
	code := f.newCodes(tb, 1)[0]
	rec := serve(tb, f.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(code)))
	return jsonString(rec.Body.Bytes(), "refresh_token")
}

func (f *fositeProvider) newAccessToken(tb testing.TB) string {
	rec := serve(tb, f.echo, newRequest(requestTemplate(http.MethodPost, "/token"), ccForm))
	return jsonString(rec.Body.Bytes(), "access_token")
}
