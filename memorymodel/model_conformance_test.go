package memorymodel_test

import (
	"context"
	"testing"

	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/modeltest"
)

func TestConformance(t *testing.T) {
	modeltest.Run(t, func(t *testing.T) modeltest.Setup {
		m := memorymodel.New()
		// The same Setup as mongomodel's: the administrative methods of
		// both models have the signatures modeltest asks for.
		return modeltest.Setup{Model: m, AddClient: m.AddClient, AddUser: m.AddUser, SetClientUser: m.SetClientUser,
			SetUserClaims:   m.SetUserClaims,
			SetClientSecret: m.SetClientSecret, AddTrustedIssuer: m.AddTrustedIssuer, MapIssuerSubject: m.MapIssuerSubject, SetExchangePolicy: m.SetExchangePolicy,
			DeleteExpired: func(context.Context) error { m.Sweep(); return nil }}
	})
}
