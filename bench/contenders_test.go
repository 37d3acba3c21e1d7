package bench

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContenders checks that every implementation really does the work
// the benchmarks measure: each flow answers 200 with the expected tokens,
// a code cannot be redeemed twice, a rotated refresh token is refused and
// an unknown bearer token is rejected.
func TestContenders(t *testing.T) {
	for _, c := range contenders() {
		t.Run(c.name, func(t *testing.T) {
			impl := c.new(t)
			h := impl.handler()
			post := requestTemplate(http.MethodPost, "/token")

			rec := serve(t, h, newRequest(post, ccForm))
			assert.NotEmpty(t, jsonString(rec.Body.Bytes(), "access_token"))
			assert.Contains(t, rec.Header().Get("Cache-Control"), "no-store")

			code := impl.newCodes(t, 1)[0]
			rec = serve(t, h, newRequest(post, codeForm(code)))
			rt := jsonString(rec.Body.Bytes(), "refresh_token")
			require.NotEmpty(t, rt, rec.Body.String())
			rec = serve(t, h, newRequest(post, refreshForm(rt)))
			next := jsonString(rec.Body.Bytes(), "refresh_token")
			require.NotEmpty(t, next)
			assert.NotEqual(t, rt, next)
			assert.NotEqual(t, http.StatusOK, httptestServe(h, newRequest(post, refreshForm(rt))), "rotated token accepted")

			// Replay last: oauth2server and fosite rightly revoke the
			// code's tokens when it is presented again (RFC 6749 §4.1.2).
			replay := httptestServe(h, newRequest(post, codeForm(code)))
			assert.NotEqual(t, http.StatusOK, replay, "code redeemed twice")

			get := requestTemplate(http.MethodGet, "/api/me")
			get.Header.Set("Authorization", "Bearer "+impl.newAccessToken(t))
			serve(t, h, newRequest(get, ""))
			bad := requestTemplate(http.MethodGet, "/api/me")
			bad.Header.Set("Authorization", "Bearer "+randomToken())
			assert.Equal(t, http.StatusUnauthorized, httptestServe(h, newRequest(bad, "")))
		})
	}
}
