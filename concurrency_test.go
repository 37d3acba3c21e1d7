package oauth2server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// race sends the same request n times at once through handlers.Token and
// returns the responses. It never calls require inside the goroutines.
func (env *testEnv) race(n int, body string) []*httptest.ResponseRecorder {
	recs := make([]*httptest.ResponseRecorder, n)
	reqs := make([]*http.Request, n)
	for i := range recs {
		recs[i] = httptest.NewRecorder()
		reqs[i] = tokenReq{body: body, auth: basic(confID, confSecret)}.build()
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			env.echo.ServeHTTP(recs[i], reqs[i])
		}()
	}
	close(start)
	wg.Wait()
	return recs
}

func countStatus(recs []*httptest.ResponseRecorder) map[int]int {
	out := map[int]int{}
	for _, r := range recs {
		out[r.Code]++
	}
	return out
}

// of 50 concurrent redemptions of one code exactly one succeeds, and
// the others count as replays.
func TestConcurrentCodeRedemption(t *testing.T) {
	env := newTestEnv(t, nil)
	env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, RedirectURI: testRedirect,
		CodeChallenge: rfcChallenge, CodeChallengeMethod: "S256", GrantID: "g", Scope: []string{"read"}})
	body := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "redirect_uri": {testRedirect}, "code_verifier": {rfcVerifier}}.Encode()

	recs := env.race(50, body)
	counts := countStatus(recs)
	assert.Equal(t, 1, counts[http.StatusOK], "%v", counts)
	assert.Equal(t, 49, counts[http.StatusBadRequest], "%v", counts)
	for _, rec := range recs {
		r := decodeToken(t, rec)
		assertNoStore(t, r)
		if r.status == http.StatusOK {
			// The replays revoke the family, the winner's token included.
			assert.True(t, env.accessToken(str(r.body["access_token"])).Revoked)
		} else {
			assert.Equal(t, "invalid_grant", r.body["error"])
		}
	}
}

// of 20 concurrent refreshes of one refresh token exactly one
// succeeds; the rest is reuse.
func TestConcurrentRefresh(t *testing.T) {
	for _, rotationOff := range []bool{false, true} {
		env := newTestEnv(t, func(o *oauth2server.Options) { o.DisableRefreshTokenRotation = rotationOff })
		env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, GrantID: "g", Scope: []string{"read"}})
		first := env.post(url.Values{"grant_type": {"authorization_code"}, "code": {"c"}})
		requireOK(t, first)
		rt := str(first.body["refresh_token"])
		require.NotEmpty(t, rt)

		recs := env.race(20, refreshParams(rt).Encode())
		counts := countStatus(recs)
		if rotationOff {
			// Without rotation a refresh token is meant to be reused.
			assert.Equal(t, 20, counts[http.StatusOK], "%v", counts)
			continue
		}
		assert.Equal(t, 1, counts[http.StatusOK], "%v", counts)
		assert.Equal(t, 19, counts[http.StatusBadRequest], "%v", counts)
		for _, rec := range recs {
			r := decodeToken(t, rec)
			if r.status == http.StatusOK {
				assert.True(t, env.refreshToken(str(r.body["refresh_token"])).Revoked, "family revoked on reuse")
			} else {
				assert.Equal(t, "invalid_grant", r.body["error"])
			}
		}
	}
}
