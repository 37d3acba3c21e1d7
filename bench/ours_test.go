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
	err := m.AddClient(&oauth2server.Client{
		ID:           clientID,
		SecretHash:   oauth2server.HashSecret(clientSecret),
		RedirectURIs: []string{redirectURI},
		Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantAuthorizationCode,
			oauth2server.GrantRefreshToken},
		Scopes: []string{scope},
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := oauth2server.New(m, oauth2server.Options{
		AccessTokenLifetime:  accessLifetime,
		RefreshTokenLifetime: refreshLifetime,
	})
	if err != nil {
		tb.Fatal(err)
	}
	e := echo.New()
	e.POST("/token", handlers.Token(srv))
	e.GET("/api/me", meHandler, oursAuthenticate(srv))
	return &ours{srv: srv, model: m, echo: e}
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
