package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BenchmarkParallel runs the token endpoint (client_credentials) and
// bearer validation from GOMAXPROCS goroutines at once, each with its own
// requests: ns/op is wall time divided by the requests of all goroutines,
// so the ratio of the -cpu 1 and -cpu N rows is how throughput scales with
// cores. Run it with -cpu 1,2,4,8.
func BenchmarkParallel(b *testing.B) {
	b.Run("op=client_credentials", func(b *testing.B) {
		for _, c := range contenders() {
			b.Run("impl="+c.name, func(b *testing.B) {
				h := c.new(b).handler()
				tmpl := requestTemplate(http.MethodPost, "/token")
				measureParallel(b, func() int {
					return httptestServe(h, newRequest(tmpl, ccForm))
				})
			})
		}
	})
	b.Run("op=bearer", func(b *testing.B) {
		for _, c := range contenders() {
			b.Run("impl="+c.name, func(b *testing.B) {
				impl := c.new(b)
				h := impl.handler()
				// Distinct tokens, so that the rows measure lookups of
				// different keys, as a resource server sees them.
				tmpls := make([]*http.Request, 64)
				for i := range tmpls {
					tmpls[i] = requestTemplate(http.MethodGet, "/api/me")
					tmpls[i].Header.Set("Authorization", "Bearer "+impl.newAccessToken(b))
				}
				var next atomic.Uint32
				measureParallel(b, func() int {
					return httptestServe(h, newRequest(tmpls[next.Add(1)%uint32(len(tmpls))], ""))
				})
			})
		}
	})
}

// measureParallel is measure for b.RunParallel: op runs on every
// goroutine until b.N requests are done, and must answer 200.
func measureParallel(b *testing.B, op func() int) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	var failed atomic.Int32
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if status := op(); status != http.StatusOK {
				failed.CompareAndSwap(0, int32(status))
			}
		}
	})
	b.StopTimer()
	if s := failed.Load(); s != 0 {
		b.Fatalf("status %d", s)
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// storeSizes are the numbers of live tokens BenchmarkStoreSize fills the
// memory model with before it measures.
var storeSizes = []struct {
	name string
	n    int
}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// BenchmarkStoreSize measures oauth2server on memorymodel holding 10k,
// 100k and 1M live tokens: a client_credentials token request, bearer
// validation of tokens spread over the store, and the revocation of a
// grant family. B/token is the heap a stored token costs, from
// runtime.MemStats before and after the fill (garbage collected both
// times).
//
// It uses b.Loop, which runs each row's fill once per -count.
func BenchmarkStoreSize(b *testing.B) {
	for _, size := range storeSizes {
		b.Run("tokens="+size.name+"/op=client_credentials", func(b *testing.B) {
			o := newOurs(b)
			perToken := fillStore(b, o, size.n)
			tmpl := requestTemplate(http.MethodPost, "/token")
			loop(b, func() {
				serve(b, o.echo, newRequest(tmpl, ccForm))
			})
			b.ReportMetric(perToken, "B/token")
		})
		b.Run("tokens="+size.name+"/op=bearer", func(b *testing.B) {
			o := newOurs(b)
			perToken := fillStore(b, o, size.n)
			// 4096 tokens spread over the store, visited in turn: most
			// lookups miss the CPU caches at 1M, as with real traffic.
			tmpls := make([]*http.Request, 4096)
			for i := range tmpls {
				tmpls[i] = requestTemplate(http.MethodGet, "/api/me")
				tmpls[i].Header.Set("Authorization", "Bearer "+fillToken(i*(size.n/len(tmpls))+i%7))
			}
			i := 0
			loop(b, func() {
				serve(b, o.echo, newRequest(tmpls[i%len(tmpls)], ""))
				i++
			})
			b.ReportMetric(perToken, "B/token")
		})
		// RevokeGrant alone, on the model: what the revocation endpoint
		// runs for every refresh token it revokes, and the refresh grant
		// for every reused one.
		b.Run("tokens="+size.name+"/op=revoke_grant", func(b *testing.B) {
			o := newOurs(b)
			perToken := fillStore(b, o, size.n)
			ctx := context.Background()
			i := 0
			loop(b, func() {
				if err := o.model.RevokeGrant(ctx, fillID(i%size.n)); err != nil {
					b.Fatal(err)
				}
				i++
			})
			b.ReportMetric(perToken, "B/token")
		})
	}
}

// loop is measure for benchmarks that use b.Loop.
func loop(b *testing.B, op func()) {
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		op()
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

// fillStore saves n tokens shaped like the ones the token endpoint issues
// for client_credentials into o's model, and returns the heap each one
// takes. The token strings are derived from their index (fillToken), so
// that the benchmark needs no slice of them while the heap is measured.
func fillStore(tb testing.TB, o *ours, n int) float64 {
	ctx := context.Background()
	model := o.model
	tmpl, err := model.GetAccessToken(ctx, o.newAccessToken(tb))
	if err != nil || tmpl == nil {
		tb.Fatal("no template token", err)
	}
	client, err := model.GetClient(ctx, clientID)
	if err != nil || client == nil {
		tb.Fatal("no client", err)
	}
	before := heapInUse()
	for i := range n {
		t := *tmpl
		t.AccessToken = fillToken(i)
		t.GrantID = fillID(i)
		if t.ID != "" {
			t.ID = fillID(i)
		}
		if err := model.SaveToken(ctx, &t, client, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return float64(heapInUse()-before) / float64(n)
}

// heapInUse is the live heap after a garbage collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// fillToken is the i-th token of fillStore: 32 bytes, base64url, like
// every token of the benchmarks.
func fillToken(i int) string {
	sum := sha256.Sum256(binary.LittleEndian.AppendUint64([]byte("fill"), uint64(i)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fillID is the grant and token ID of the i-th token: as long as the
// Server's own IDs.
func fillID(i int) string {
	sum := sha256.Sum256(binary.LittleEndian.AppendUint64([]byte("id"), uint64(i)))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// The fill stores what the endpoint stores: its tokens are accepted by
// bearer validation, and the store grows by n.
func TestFillStore(t *testing.T) {
	o := newOurs(t)
	h := o.handler()
	get := func(i int) int {
		r := requestTemplate(http.MethodGet, "/api/me")
		r.Header.Set("Authorization", "Bearer "+fillToken(i))
		return httptestServe(h, newRequest(r, ""))
	}
	require.Equal(t, http.StatusUnauthorized, get(0))
	perToken := fillStore(t, o, 100)
	for _, i := range []int{0, 1, 99} {
		assert.Equal(t, http.StatusOK, get(i), "fill token %d", i)
	}
	assert.Equal(t, http.StatusUnauthorized, get(100))
	assert.Greater(t, perToken, 100.0, "a token takes at least its strings")
}
