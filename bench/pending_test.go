package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Rows whose oauth2server side needs code that is not on this branch yet.
// Each skipped row names what it waits for; adding it is one constructor
// call in newOurs plus removing the b.Skip.
const (
	pendingIntrospect = "pending: oauth2server introspection endpoint (handlers.Introspect) not merged yet"
	pendingJWT        = "pending: oauth2server JWT access tokens not merged yet"
	pendingMongo      = "pending: mongomodel not merged yet; will run against tools/mongotest"
)

// BenchmarkIntrospect measures the introspection endpoint (RFC 7662) with
// client_secret_basic caller authentication. go-oauth2 has none.
func BenchmarkIntrospect(b *testing.B) {
	b.Run("impl=oauth2server", func(b *testing.B) { b.Skip(pendingIntrospect) })
	b.Run("impl=fosite", func(b *testing.B) {
		f := newFosite(b)
		h := f.handler()
		body := "token=" + url.QueryEscape(f.newAccessToken(b))
		tmpl := requestTemplate(http.MethodPost, "/introspect")
		measure(b, func(int) {
			rec := serve(b, h, newRequest(tmpl, body))
			if rec.Body.Len() < 20 {
				b.Fatalf("inactive: %s", rec.Body)
			}
		})
	})
}

// jwtKeys are the signing keys of the JWT rows.
type jwtKey struct {
	alg    string
	method jwt.SigningMethod
	key    crypto.Signer
}

func jwtKeys(tb testing.TB) []jwtKey {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	_, dk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return []jwtKey{
		{"RS256", jwt.SigningMethodRS256, rk},
		{"ES256", jwt.SigningMethodES256, ek},
		{"EdDSA", jwt.SigningMethodEdDSA, dk},
	}
}

// atClaims are the RFC 9068 claims of one access token.
func atClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       "https://as.example.com",
		"sub":       userID,
		"aud":       "https://api.example.com",
		"client_id": clientID,
		"scope":     scope,
		"iat":       now.Unix(),
		"exp":       now.Add(accessLifetime).Unix(),
		"jti":       randomToken(),
	}
}

// BenchmarkJWTSign puts the JWT access token issuance of oauth2server
// beside the raw golang-jwt cost of signing the same claims (the floor).
func BenchmarkJWTSign(b *testing.B) {
	for _, k := range jwtKeys(b) {
		b.Run("alg="+k.alg+"/impl=oauth2server", func(b *testing.B) { b.Skip(pendingJWT) })
		b.Run("alg="+k.alg+"/impl=golang-jwt", func(b *testing.B) {
			claims := atClaims(time.Now())
			measure(b, func(int) {
				t := jwt.NewWithClaims(k.method, claims)
				t.Header["typ"] = "at+jwt"
				if _, err := t.SignedString(k.key); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkJWTVerify puts JWT validation in oauth2server's middleware
// beside the raw golang-jwt verify cost with the same checks.
func BenchmarkJWTVerify(b *testing.B) {
	for _, k := range jwtKeys(b) {
		b.Run("alg="+k.alg+"/impl=oauth2server", func(b *testing.B) { b.Skip(pendingJWT) })
		b.Run("alg="+k.alg+"/impl=golang-jwt", func(b *testing.B) {
			t := jwt.NewWithClaims(k.method, atClaims(time.Now()))
			t.Header["typ"] = "at+jwt"
			raw, err := t.SignedString(k.key)
			if err != nil {
				b.Fatal(err)
			}
			pub := k.key.Public()
			p := jwt.NewParser(jwt.WithValidMethods([]string{k.alg}), jwt.WithIssuer("https://as.example.com"),
				jwt.WithAudience("https://api.example.com"), jwt.WithExpirationRequired())
			keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
			measure(b, func(int) {
				if _, err := p.Parse(raw, keyFunc); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkMongoToken measures the client_credentials token endpoint on the
// MongoDB model against tools/mongotest.
func BenchmarkMongoToken(b *testing.B) {
	b.Run("grant=client_credentials/impl=oauth2server", func(b *testing.B) { b.Skip(pendingMongo) })
}
