package mapmodel_test

import (
	"testing"

	"github.com/echo-oauth2/oauth2server/internal/mapmodel"
	"github.com/echo-oauth2/oauth2server/modeltest"
)

func TestConformance(t *testing.T) {
	modeltest.Run(t, func(t *testing.T) modeltest.Setup {
		m := mapmodel.New() // a fresh, empty model for every case
		return modeltest.Setup{Model: m, AddClient: m.AddClient}
	})
}
