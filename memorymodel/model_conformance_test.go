package memorymodel_test

import (
	"context"
	"testing"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/modeltest"
)

func TestConformance(t *testing.T) {
	modeltest.Run(t, func(t *testing.T) modeltest.Setup {
		m := memorymodel.New()
		return modeltest.Setup{
			Model:     m,
			AddClient: func(_ context.Context, c *oauth2server.Client) error { return m.AddClient(c) },
			AddUser: func(_ context.Context, u *oauth2server.User, hash string) error {
				return m.AddUser(u, hash)
			},
			SetClientUser: func(_ context.Context, clientID, username string) error {
				m.SetClientUser(clientID, username)
				return nil
			},
		}
	})
}
