package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The URLs the DPoP proofs name: httptest requests go to example.com.
const (
	dpopTokenHTU = "http://example.com/token"
	dpopAPIHTU   = "http://example.com/api/me"
)

// dpopJWK is the public JWK of key, as a client embeds it in its proofs.
func dpopJWK(tb testing.TB, key crypto.Signer) map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		point, err := k.PublicKey.Bytes()
		if err != nil {
			tb.Fatal(err)
		}
		return map[string]any{"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])}
	case ed25519.PrivateKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(k.Public().(ed25519.PublicKey))}
	case *rsa.PrivateKey:
		return map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	}
	tb.Fatalf("unsupported key %T", key)
	return nil
}

// dpopProofs signs n proofs for method and htu, each with its own jti,
// with ath when accessToken is set: outside the timer, since a proof is
// good once.
func dpopProofs(tb testing.TB, k jwtKey, n int, method, htu, accessToken string) []string {
	jwk := dpopJWK(tb, k.key)
	var ath string
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		ath = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	proofs := make([]string, n)
	now := time.Now().Unix()
	for i := range proofs {
		claims := jwt.MapClaims{"jti": randomToken(), "htm": method, "htu": htu, "iat": now}
		if ath != "" {
			claims["ath"] = ath
		}
		t := jwt.NewWithClaims(k.method, claims)
		t.Header["typ"] = "dpop+jwt"
		t.Header["jwk"] = jwk
		raw, err := t.SignedString(k.key)
		if err != nil {
			tb.Fatal(err)
		}
		proofs[i] = raw
	}
	return proofs
}

// dpopKeys are the keys of the DPoP rows: those FAPI 2.0 allows, and RS256.
func dpopKeys(tb testing.TB) []jwtKey {
	keys := jwtKeys(tb)
	rk := keys[0].key.(*rsa.PrivateKey)
	return append(keys, jwtKey{"PS256", jwt.SigningMethodPS256, rk})
}

// measureClean is measure after a garbage collection, so that the
// collection of what signing the proofs left behind is not counted in
// the row's CPU time.
func measureClean(b *testing.B, op func(i int)) {
	runtime.GC()
	measure(b, op)
}

// proofPool is how many proofs a DPoP row signs before its timer starts:
// a proof is good once, so after each pool the row starts on a fresh
// Server, whose replay store has not seen them. Building it costs about
// a hundred microseconds, a tenth of a percent of a pool's work.
const proofPool = 1024

// dpopOptions are the Options of the DPoP rows: JWT access tokens signed
// with one key, so that a token issued by one Server verifies at the next.
func dpopOptions(tb testing.TB, signing jwtKey) oauth2server.Options {
	return oauth2server.Options{
		AccessTokenLifetime: accessLifetime,
		Issuer:              jwtIssuer,
		Audience:            jwtAudience,
		JWT:                 &oauth2server.JWTOptions{},
		SigningKeys:         []oauth2server.SigningKey{{PEM: signing.pem(tb)}},
		DPoP:                &oauth2server.DPoPOptions{Algorithms: []string{"ES256", "EdDSA", "PS256", "RS256"}},
	}
}

// newOursDPoP is oauth2server with DPoP on a fresh memory model, whose
// CounterModel keeps the jti replay claims.
func newOursDPoP(tb testing.TB, opts oauth2server.Options) *ours {
	m := memorymodel.New()
	err := m.AddClient(context.Background(), &oauth2server.Client{
		ID:           clientID,
		SecretHash:   oauth2server.HashSecret(clientSecret),
		RedirectURIs: []string{redirectURI},
		Grants:       []string{oauth2server.GrantClientCredentials, oauth2server.GrantAuthorizationCode},
		Scopes:       []string{scope},
	})
	if err != nil {
		tb.Fatal(err)
	}
	o := mountOurs(tb, m, m, opts)
	o.echo.POST("/par", handlers.PushedAuthorization(o.srv))
	return o
}

// boundToken is a DPoP-bound JWT access token for k, issued by o.
func boundToken(tb testing.TB, o *ours, k jwtKey) string {
	r := newRequest(requestTemplate(http.MethodPost, "/token"), ccForm)
	r.Header = r.Header.Clone()
	r.Header["Dpop"] = dpopProofs(tb, k, 1, http.MethodPost, dpopTokenHTU, "")
	return jsonString(serve(tb, o.handler(), r).Body.Bytes(), "access_token")
}

// BenchmarkDPoPProof puts oauth2server's validation of one DPoP proof
// (Server.ValidateDPoPProof: typ, the jwk converted and checked, its RFC
// 7638 thumbprint, the signature, jti/htm/htu/iat, ath at a resource, and
// the jti claimed in the replay store) beside the raw golang-jwt parse and
// verify of the same proof with a key known in advance (the floor). The
// proof of a token request has no ath; the proof of a protected request
// carries the access token's hash.
func BenchmarkDPoPProof(b *testing.B) {
	signing := jwtKeys(b)[1]
	for _, k := range dpopKeys(b) {
		for _, where := range []struct{ name, method, htu string }{
			{"token", http.MethodPost, dpopTokenHTU},
			{"resource", http.MethodGet, dpopAPIHTU},
		} {
			opts := dpopOptions(b, signing)
			token := ""
			if where.name == "resource" {
				token = randomToken()
			}
			// Each row signs its own proofs when it starts: signed once for
			// every row and run, they went stale (iat) on a busy machine.
			b.Run("where="+where.name+"/alg="+k.alg+"/impl=oauth2server", func(b *testing.B) {
				proofs := dpopProofs(b, k, proofPool, where.method, where.htu, token)
				var srv *oauth2server.Server
				r := requestTemplate(where.method, where.htu)
				r.Header = http.Header{}
				measureClean(b, func(i int) {
					if i%proofPool == 0 {
						srv = newOursDPoP(b, opts).srv
					}
					r.Header["Dpop"] = proofs[i%proofPool : i%proofPool+1]
					p, err := srv.ValidateDPoPProof(r, token)
					if err != nil || p == nil {
						b.Fatal(err)
					}
				})
			})
			b.Run("where="+where.name+"/alg="+k.alg+"/impl=golang-jwt", func(b *testing.B) {
				proofs := dpopProofs(b, k, proofPool, where.method, where.htu, token)
				pub := k.key.Public()
				p := jwt.NewParser(jwt.WithValidMethods([]string{k.alg}), jwt.WithoutClaimsValidation())
				keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
				measureClean(b, func(i int) {
					if _, err := p.Parse(proofs[i%proofPool], keyFunc); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

// BenchmarkDPoPRequest is whole requests through Echo with DPoP beside the
// same requests with bearer tokens: a client_credentials token request,
// and a GET of the protected route; JWT access tokens, ES256 proofs.
func BenchmarkDPoPRequest(b *testing.B) {
	signing := jwtKeys(b)[1]
	k := signing // the client's DPoP key; any key does
	opts := dpopOptions(b, signing)
	b.Run("op=token/scheme=Bearer", func(b *testing.B) {
		h := newOursDPoP(b, opts).handler()
		tmpl := requestTemplate(http.MethodPost, "/token")
		measureClean(b, func(int) {
			serve(b, h, newRequest(tmpl, ccForm))
		})
	})
	b.Run("op=token/scheme=DPoP", func(b *testing.B) {
		proofs := dpopProofs(b, k, proofPool, http.MethodPost, dpopTokenHTU, "")
		tmpl := requestTemplate(http.MethodPost, "/token")
		var h http.Handler
		measureClean(b, func(i int) {
			if i%proofPool == 0 {
				h = newOursDPoP(b, opts).handler()
			}
			r := newRequest(tmpl, ccForm)
			r.Header = r.Header.Clone()
			r.Header["Dpop"] = proofs[i%proofPool : i%proofPool+1]
			serve(b, h, r)
		})
	})
	b.Run("op=resource/scheme=Bearer", func(b *testing.B) {
		o := newOursDPoP(b, opts)
		tmpl := requestTemplate(http.MethodGet, "/api/me")
		tmpl.Header.Set("Authorization", "Bearer "+o.newAccessToken(b))
		h := o.handler()
		measureClean(b, func(int) {
			serve(b, h, newRequest(tmpl, ""))
		})
	})
	b.Run("op=resource/scheme=DPoP", func(b *testing.B) {
		at := boundToken(b, newOursDPoP(b, opts), k)
		proofs := dpopProofs(b, k, proofPool, http.MethodGet, dpopAPIHTU, at)
		tmpl := requestTemplate(http.MethodGet, "/api/me")
		tmpl.Header.Set("Authorization", "DPoP "+at)
		var h http.Handler
		measureClean(b, func(i int) {
			if i%proofPool == 0 {
				h = newOursDPoP(b, opts).handler()
			}
			r := newRequest(tmpl, "")
			r.Header = tmpl.Header.Clone()
			r.Header["Dpop"] = proofs[i%proofPool : i%proofPool+1]
			serve(b, h, r)
		})
	})
}

// BenchmarkPAR is one pushed authorization request through Echo: client
// authentication, the validation of the request, a request_uri of 256
// random bits, the save and the 201.
func BenchmarkPAR(b *testing.B) {
	o := newOursDPoP(b, dpopOptions(b, jwtKeys(b)[1]))
	tmpl := requestTemplate(http.MethodPost, "/par")
	form := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {scope}, "state": {"af0ifjsldkj"},
		"code_challenge": {pkceChallenge}, "code_challenge_method": {"S256"}}.Encode()
	h := o.handler()
	// A sub-benchmark, so that make bench's patterns (Benchmark…/filter)
	// select it.
	b.Run("impl=oauth2server", func(b *testing.B) {
		measureClean(b, func(int) {
			rec := httptestRecord(h, newRequest(tmpl, form))
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
		})
	})
}

// httptestRecord runs one request and returns the recorder, whatever its
// status.
func httptestRecord(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}
