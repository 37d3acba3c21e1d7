package modelobserve_test

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/modelobserve"
)

// Count the calls of each model method. A real observer would feed a
// latency histogram: histogram.WithLabelValues(method).Observe(time.Since(start).Seconds()).
func ExampleWrap() {
	var mu sync.Mutex
	calls := map[string]int{}
	model := modelobserve.Wrap(memorymodel.New(), modelobserve.Func(
		func(ctx context.Context, method string, start time.Time, err error) {
			mu.Lock()
			defer mu.Unlock()
			calls[method]++
		}))
	srv, err := oauth2server.New(model, oauth2server.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_ = srv // mount it with the handlers package

	// Capabilities are found one interface at a time, as New finds them.
	rt, ok := oauth2server.Capability[oauth2server.RefreshTokenModel](model)
	fmt.Println("refresh tokens:", ok)
	_, _ = rt.GetRefreshToken(context.Background(), "unknown")
	_, ok = oauth2server.Capability[oauth2server.AccessTokenGenerator](model)
	fmt.Println("own access token generator:", ok)
	fmt.Println(calls)
	// Output:
	// refresh tokens: true
	// own access token generator: false
	// map[GetRefreshToken:1]
}
