package modelobserve_test

import (
	"context"
	"testing"
	"time"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/modelobserve"
)

// stub answers at once, so that the benchmarks measure the wrapper.
type stub struct{ client *oauth2server.Client }

func (s stub) GetClient(context.Context, string) (*oauth2server.Client, error) { return s.client, nil }
func (stub) SaveToken(context.Context, *oauth2server.Token, *oauth2server.Client, *oauth2server.User) error {
	return nil
}
func (stub) GetAccessToken(context.Context, string) (*oauth2server.Token, error) { return nil, nil }

// The cost of a call through the wrapper: go test -bench . ./modelobserve
func BenchmarkGetAccessToken(b *testing.B) {
	var sink time.Duration
	for _, bc := range []struct {
		name  string
		model oauth2server.Model
	}{
		{"bare", stub{}},
		{"wrapped, empty observer", modelobserve.Wrap(stub{}, modelobserve.Func(func(context.Context, string, time.Time, error) {}))},
		{"wrapped, time.Since", modelobserve.Wrap(stub{}, modelobserve.Func(func(_ context.Context, _ string, start time.Time, _ error) {
			sink += time.Since(start)
		}))},
	} {
		at, _ := oauth2server.Capability[oauth2server.AccessTokenModel](bc.model)
		ctx := context.Background()
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = at.GetAccessToken(ctx, "token")
			}
		})
	}
	_ = sink
}
