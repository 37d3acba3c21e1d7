package modelobserve_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/modelobserve"
	"github.com/echo-oauth2/oauth2server/modeltest"
)

// memorymodel behind the wrapper passes the conformance suite, which finds
// every capability through the chain, and the suite's calls reach every
// method through the observer.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	obs := modelobserve.Func(func(_ context.Context, method string, _ time.Time, _ error) {
		mu.Lock()
		seen[method]++
		mu.Unlock()
	})
	t.Cleanup(func() { // after every case, parallel ones too
		mu.Lock()
		defer mu.Unlock()
		for _, method := range modelobserve.Methods(memorymodel.New()) {
			assert.Positive(t, seen[method], "modeltest called %s through the wrapper", method)
		}
	})
	modeltest.Run(t, func(t *testing.T) modeltest.Setup {
		m := memorymodel.New()
		return modeltest.Setup{Model: modelobserve.Wrap(m, obs), AddClient: m.AddClient, AddUser: m.AddUser,
			SetClientUser: m.SetClientUser, SetUserClaims: m.SetUserClaims,
			SetClientSecret: m.SetClientSecret, AddTrustedIssuer: m.AddTrustedIssuer, MapIssuerSubject: m.MapIssuerSubject, SetExchangePolicy: m.SetExchangePolicy,
			DeleteExpired: func(context.Context) error { m.Sweep(); return nil }}
	}, modeltest.FailOnSkip())
}
