package bench

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// ours is oauth2server on the memory model, mounted with the handlers
// package.
type ours struct {
	srv   *oauth2server.Server
	model *memorymodel.Model
	echo  *echo.Echo
}

func newOurs(tb testing.TB) *ours {
	m := memorymodel.New()
	err := m.AddClient(context.Background(), &oauth2server.Client{
		ID:           clientID,
		SecretHash:   oauth2server.HashSecret(clientSecret),
		RedirectURIs: []string{redirectURI},
		Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantAuthorizationCode,
			oauth2server.GrantRefreshToken},
		Scopes:     []string{scope},
		Introspect: true,
	})

	if err != nil {
		tb.Fatal(err)
	}
	return mountOurs(tb, m, m, oauth2server.Options{
		AccessTokenLifetime:  accessLifetime,
		RefreshTokenLifetime: refreshLifetime,
	})
}

// mountOurs builds the Server on model and mounts POST /token, POST
// /introspect and GET /api/me (behind the Authenticate middleware) on Echo.
// mem is the memory model used by newCodes, or nil.
func mountOurs(tb testing.TB, model oauth2server.Model, mem *memorymodel.Model, opts oauth2server.Options) *ours {
	srv, err := oauth2server.New(model, opts)
	if err != nil {
		tb.Fatal(err)
	}
	e := echo.New()
	e.POST("/token", handlers.Token(srv))
	e.POST("/introspect", handlers.Introspect(srv))
	e.GET("/api/me", meHandler, oursAuthenticate(srv))
	return &ours{srv: srv, model: mem, echo: e}
}

func (o *ours) handler() http.Handler { return o.echo }

func (o *ours) newCodes(tb testing.TB, n int) []string {
	ctx := context.Background()
	client, err := o.model.GetClient(ctx, clientID)
	if err != nil || client == nil {
		tb.Fatal("no client", err)
	}
	now := time.Now()
	codes := make([]string, n)
	for i := range codes {
		codes[i] = randomToken()
		err := o.model.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{
			Code:                codes[i],
			ExpiresAt:           now.Add(codeLifetime),
			RedirectURI:         redirectURI,
			Scope:               []string{scope},
			ClientID:            clientID,
			UserID:              userID,
			CodeChallenge:       pkceChallenge,
			CodeChallengeMethod: oauth2server.PKCEMethodS256,
			GrantID:             codes[i],
			IssuedAt:            now,
		}, client, &oauth2server.User{ID: userID})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return codes
}

func (o *ours) newRefreshToken(tb testing.TB) string {
	code := o.newCodes(tb, 1)[0]
	rec := serve(tb, o.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(code)))
	return jsonString(rec.Body.Bytes(), "refresh_token")
}

func (o *ours) newAccessToken(tb testing.TB) string {
	rec := serve(tb, o.echo, newRequest(requestTemplate(http.MethodPost, "/token"), ccForm))
	return jsonString(rec.Body.Bytes(), "access_token")
}

// meHandler is the protected resource of every implementation: it answers
// with a small fixed JSON document once the bearer token was accepted.
func meHandler(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, []byte(`{"sub":"user-1"}`))
}
