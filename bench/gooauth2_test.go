package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/labstack/echo/v4"
)

// goOAuth2 is github.com/go-oauth2/oauth2/v4 with its default manager and
// server, its memory stores (buntdb for tokens), and two changes for a
// like-for-like comparison: tokens are 32 random bytes base64url (its
// default is an MD5/SHA-1 UUID) and the client secret is checked against a
// SHA-256 digest in constant time (its default compares plain text with !=).
type goOAuth2 struct {
	manager *manage.Manager
	srv     *server.Server
	echo    *echo.Echo
}

// goOAuth2Client is a client whose secret is stored as a SHA-256 digest.
type goOAuth2Client struct {
	models.Client
	hash []byte
}

// VerifyPassword implements oauth2.ClientPasswordVerifier.
func (c *goOAuth2Client) VerifyPassword(secret string) bool { return sha256Equal(c.hash, secret) }

// goOAuth2Generate issues tokens of the same shape as oauth2server's.
type goOAuth2Generate struct{}

func (goOAuth2Generate) Token(_ context.Context, _ *oauth2.GenerateBasic, refresh bool) (string, string, error) {
	a, r := randomToken(), ""
	if refresh {
		r = randomToken()
	}
	return a, r, nil
}

func newGoOAuth2(tb testing.TB) *goOAuth2 {
	m := manage.NewDefaultManager()
	m.MapAccessGenerate(goOAuth2Generate{})
	m.MustTokenStorage(store.NewMemoryTokenStore())
	clients := store.NewClientStore()
	if err := clients.Set(clientID, &goOAuth2Client{
		Client: models.Client{ID: clientID, Domain: redirectURI},
		hash:   sha256Hash(clientSecret),
	}); err != nil {
		tb.Fatal(err)
	}
	m.MapClientStorage(clients)
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: accessLifetime})
	m.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: accessLifetime, RefreshTokenExp: refreshLifetime, IsGenerateRefresh: true})
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{
		AccessTokenExp: accessLifetime, RefreshTokenExp: refreshLifetime,
		IsGenerateRefresh: true, IsResetRefreshTime: true, IsRemoveAccess: true, IsRemoveRefreshing: true,
	})
	m.SetAuthorizeCodeExp(codeLifetime)

	srv := server.NewDefaultServer(m)
	srv.Config.ForcePKCE = true
	srv.SetClientInfoHandler(server.ClientBasicHandler)

	e := echo.New()
	e.POST("/token", func(c echo.Context) error {
		return srv.HandleTokenRequest(c.Response(), c.Request())
	})
	e.GET("/api/me", meHandler, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, err := srv.ValidationBearerToken(c.Request()); err != nil {
				return echo.NewHTTPError(http.StatusUnauthorized)
			}
			return next(c)
		}
	})
	return &goOAuth2{manager: m, srv: srv, echo: e}
}

func (g *goOAuth2) handler() http.Handler { return g.echo }

func (g *goOAuth2) newCodes(tb testing.TB, n int) []string {
	ctx := context.Background()
	codes := make([]string, n)
	for i := range codes {
		ti, err := g.manager.GenerateAuthToken(ctx, oauth2.Code, &oauth2.TokenGenerateRequest{
			ClientID:            clientID,
			UserID:              userID,
			RedirectURI:         redirectURI,
			Scope:               scope,
			CodeChallenge:       pkceChallenge,
			CodeChallengeMethod: oauth2.CodeChallengeS256,
		})
		if err != nil {
			tb.Fatal(err)
		}
		codes[i] = ti.GetCode()
	}
	return codes
}

func (g *goOAuth2) newRefreshToken(tb testing.TB) string {
	code := g.newCodes(tb, 1)[0]
	rec := serve(tb, g.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(code)))
	return jsonString(rec.Body.Bytes(), "refresh_token")
}

func (g *goOAuth2) newAccessToken(tb testing.TB) string {
	rec := serve(tb, g.echo, newRequest(requestTemplate(http.MethodPost, "/token"), ccForm))
	return jsonString(rec.Body.Bytes(), "access_token")
}
