package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// BenchmarkIntrospect measures the introspection endpoint (RFC 7662) with
// client_secret_basic caller authentication. go-oauth2 has none.
func BenchmarkIntrospect(b *testing.B) {
	for _, c := range contenders() {
		if c.name == "go-oauth2" {
			continue
		}
		b.Run("impl="+c.name, func(b *testing.B) {
			impl := c.new(b)
			h := impl.handler()
			body := "token=" + url.QueryEscape(impl.newAccessToken(b))
			tmpl := requestTemplate(http.MethodPost, "/introspect")
			measure(b, func(int) {
				rec := serve(b, h, newRequest(tmpl, body))
				if rec.Body.Len() < 20 {
					b.Fatalf("inactive: %s", rec.Body)
				}
			})
		})
	}
}

// jwtKey is a signing key of the JWT rows.
type jwtKey struct {
	alg    string
	method jwt.SigningMethod
	key    crypto.Signer
}

// pem is the key as PKCS #8 PEM, the form oauth2server's SigningKeys take.
func (k jwtKey) pem(tb testing.TB) string {
	der, err := x509.MarshalPKCS8PrivateKey(k.key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// The iss and aud of every JWT row.
const (
	jwtIssuer   = "https://as.example.com"
	jwtAudience = "https://api.example.com"
)

// newOursJWT is oauth2server issuing RFC 9068 JWT access tokens signed with
// k, on the memory model (which keeps the jti deny-list).
func newOursJWT(tb testing.TB, k jwtKey) *ours {
	m := memorymodel.New()
	err := m.AddClient(context.Background(), &oauth2server.Client{
		ID:         clientID,
		SecretHash: oauth2server.HashSecret(clientSecret),
		Grants:     []string{oauth2server.GrantClientCredentials},
		Scopes:     []string{scope},
	})

	if err != nil {
		tb.Fatal(err)
	}
	return mountOurs(tb, m, m, oauth2server.Options{
		AccessTokenLifetime: accessLifetime,
		JWT:                 &oauth2server.JWTOptions{},
		Issuer:              jwtIssuer,
		Audience:            jwtAudience,
		SigningKeys:         []oauth2server.SigningKey{{PEM: k.pem(tb)}},
	})
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
		"iss":       jwtIssuer,
		"sub":       userID,
		"aud":       jwtAudience,
		"client_id": clientID,
		"scope":     scope,
		"iat":       now.Unix(),
		"exp":       now.Add(accessLifetime).Unix(),
		"jti":       randomToken(),
	}
}

// BenchmarkJWTSign puts the JWT access token issuance of oauth2server
// beside the raw golang-jwt cost of signing the same claims (the floor).
// The oauth2server row is a whole client_credentials request through the
// token endpoint (client authentication, jti, signing, SaveToken, the JSON
// response); the raw row is jwt.NewWithClaims + SignedString alone.
func BenchmarkJWTSign(b *testing.B) {
	for _, k := range jwtKeys(b) {
		b.Run("alg="+k.alg+"/impl=oauth2server", func(b *testing.B) {
			h := newOursJWT(b, k).handler()
			tmpl := requestTemplate(http.MethodPost, "/token")
			measure(b, func(int) {
				serve(b, h, newRequest(tmpl, ccForm))
			})
		})
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
// beside the raw golang-jwt verify cost with the same checks. The
// oauth2server row is a whole GET /api/me through Echo and the Authenticate
// middleware (header parsing, signature, typ, kid, iss, aud, exp, iat, the
// jti deny-list, the scope check); the raw row is Parser.Parse alone.
func BenchmarkJWTVerify(b *testing.B) {
	for _, k := range jwtKeys(b) {
		b.Run("alg="+k.alg+"/impl=oauth2server", func(b *testing.B) {
			o := newOursJWT(b, k)
			h := o.handler()
			tmpl := requestTemplate(http.MethodGet, "/api/me")
			tmpl.Header.Set("Authorization", "Bearer "+o.newAccessToken(b))
			measure(b, func(int) {
				serve(b, h, newRequest(tmpl, ""))
			})
		})
		b.Run("alg="+k.alg+"/impl=golang-jwt", func(b *testing.B) {
			t := jwt.NewWithClaims(k.method, atClaims(time.Now()))
			t.Header["typ"] = "at+jwt"
			raw, err := t.SignedString(k.key)
			if err != nil {
				b.Fatal(err)
			}
			pub := k.key.Public()
			p := jwt.NewParser(jwt.WithValidMethods([]string{k.alg}), jwt.WithIssuer(jwtIssuer),
				jwt.WithAudience(jwtAudience), jwt.WithExpirationRequired())
			keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
			measure(b, func(int) {
				if _, err := p.Parse(raw, keyFunc); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
