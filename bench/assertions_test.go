package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// tokenURL is the aud of the assertions of these rows.
const tokenURL = jwtIssuer + "/token"

// newOursAssertion is oauth2server on the memory model with one client
// per key of keys, authenticating with private_key_jwt and its key's JWK
// Set, plus the client_secret_basic client of the other rows.
func newOursAssertion(tb testing.TB, keys []jwtKey) *ours {
	m := memorymodel.New()
	ctx := context.Background()
	clients := []*oauth2server.Client{{ID: clientID, SecretHash: oauth2server.HashSecret(clientSecret),
		Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{scope}}}
	for _, k := range keys {
		clients = append(clients, &oauth2server.Client{ID: "pk-" + k.alg, TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT,
			JWKS: publicJWKS(tb, k), Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{scope}})
	}
	for _, c := range clients {
		if err := m.AddClient(ctx, c); err != nil {
			tb.Fatal(err)
		}
	}
	return mountOurs(tb, m, m, oauth2server.Options{
		AccessTokenLifetime: accessLifetime,
		Issuer:              jwtIssuer,
		Assertions:          oauth2server.AssertionOptions{Audiences: []string{tokenURL}},
	})
}

// publicJWKS is the JWK Set of k's public key, with kid "k".
func publicJWKS(tb testing.TB, k jwtKey) string {
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := map[string]any{"kid": "k", "alg": k.alg}
	switch pub := k.key.Public().(type) {
	case *rsa.PublicKey:
		jwk["kty"], jwk["n"], jwk["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes()
		if err != nil {
			tb.Fatal(err)
		}
		jwk["kty"], jwk["crv"], jwk["x"], jwk["y"] = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
	case ed25519.PublicKey:
		jwk["kty"], jwk["crv"], jwk["x"] = "OKP", "Ed25519", b64(pub)
	}
	b, err := json.Marshal(map[string]any{"keys": []any{jwk}})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// signAssertions makes n client assertions of the client of k, each with
// its own jti (outside the timer: signing is the client's work).
func signAssertions(tb testing.TB, k jwtKey, n int) []string {
	id := "pk-" + k.alg
	now := time.Now()
	out := make([]string, n)
	for i := range out {
		t := jwt.NewWithClaims(k.method, jwt.MapClaims{"iss": id, "sub": id, "aud": tokenURL,
			"iat": now.Unix(), "exp": now.Add(4 * time.Minute).Unix(), "jti": strconv.Itoa(i) + "-" + randomToken()})
		t.Header["kid"] = "k"
		raw, err := t.SignedString(k.key)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// assertionBodies are client_credentials request bodies, each
// authenticated by one of the assertions.
func assertionBodies(assertions []string) []string {
	bodies := make([]string, len(assertions))
	for i, a := range assertions {
		bodies[i] = ccForm + "&client_assertion_type=" + url.QueryEscape(oauth2server.ClientAssertionTypeJWTBearer) +
			"&client_assertion=" + a
	}
	return bodies
}

// BenchmarkClientAssertion puts client authentication by private_key_jwt
// (RFC 7523 §2.2) beside client_secret_basic, in a whole client_credentials
// request through the token endpoint, and beside the raw golang-jwt cost
// of verifying the same assertion with the same checks (the floor). The
// private_key_jwt rows add to the basic row the assertion's parsing, key
// lookup, signature, claim checks and the jti's ClaimOnce; the target is
// that this adds at most the raw verify cost of the algorithm + 15%.
func BenchmarkClientAssertion(b *testing.B) {
	keys := jwtKeys(b)
	b.Run("auth=client_secret_basic/impl=oauth2server", func(b *testing.B) {
		h := newOursAssertion(b, keys).handler()
		tmpl := requestTemplate(http.MethodPost, "/token")
		measure(b, func(int) {
			serve(b, h, newRequest(tmpl, ccForm))
		})
	})
	for _, k := range keys {
		b.Run("alg="+k.alg+"/auth=private_key_jwt/impl=oauth2server", func(b *testing.B) {
			h := newOursAssertion(b, keys).handler()
			bodies := assertionBodies(signAssertions(b, k, b.N))
			tmpl := requestTemplate(http.MethodPost, "/token")
			tmpl.Header = tmpl.Header.Clone()
			tmpl.Header.Del("Authorization")
			measure(b, func(i int) {
				serve(b, h, newRequest(tmpl, bodies[i]))
			})
		})
		b.Run("alg="+k.alg+"/verify/impl=golang-jwt", func(b *testing.B) {
			raw := signAssertions(b, k, 1)[0]
			pub := k.key.Public()
			p := jwt.NewParser(jwt.WithValidMethods([]string{k.alg}), jwt.WithAudience(tokenURL), jwt.WithExpirationRequired(),
				jwt.WithIssuedAt())
			keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
			measure(b, func(int) {
				if _, err := p.Parse(raw, keyFunc); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkClientAssertionInterleaved times, in turn in one loop, a
// client_credentials request authenticated by private_key_jwt, the same
// with client_secret_basic, and golang-jwt verifying such an assertion
// (see interleave): assertion-ns/op, basic-ns/op, raw-ns/op and
// assertion/raw, the assertion's cost over the raw verify.
func BenchmarkClientAssertionInterleaved(b *testing.B) {
	keys := jwtKeys(b)
	for _, k := range keys {
		b.Run("alg="+k.alg, func(b *testing.B) {
			h := newOursAssertion(b, keys).handler()
			bodies := assertionBodies(signAssertions(b, k, b.N))
			assertionTmpl := requestTemplate(http.MethodPost, "/token")
			assertionTmpl.Header = assertionTmpl.Header.Clone()
			assertionTmpl.Header.Del("Authorization")
			basicTmpl := requestTemplate(http.MethodPost, "/token")
			raw := signAssertions(b, k, 1)[0]
			pub := k.key.Public()
			p := jwt.NewParser(jwt.WithValidMethods([]string{k.alg}), jwt.WithAudience(tokenURL), jwt.WithExpirationRequired(),
				jwt.WithIssuedAt())
			keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
			spent := interleave(b, [3]func(i int){
				func(i int) { serve(b, h, newRequest(assertionTmpl, bodies[i])) },
				func(int) { serve(b, h, newRequest(basicTmpl, ccForm)) },
				func(int) {
					if _, err := p.Parse(raw, keyFunc); err != nil {
						b.Fatal(err)
					}
				},
			})
			reportInterleaved(b, spent, "assertion", "basic", "assertion/raw")
		})
	}
}

// BenchmarkTokenExchange measures a token exchange (RFC 8693) of an
// opaque access token of a user for a token of another audience, by a
// client_secret_basic client under a stored policy: the subject token's
// lookup, the policy, scope and lifetime, a new token saved in the
// subject's family.
func BenchmarkTokenExchange(b *testing.B) {
	b.Run("subject=opaque/impl=oauth2server", func(b *testing.B) {
		m := memorymodel.New()
		ctx := context.Background()
		if err := m.AddClient(ctx, &oauth2server.Client{ID: clientID, SecretHash: oauth2server.HashSecret(clientSecret),
			Grants: []string{oauth2server.GrantTokenExchange}, Scopes: []string{scope}}); err != nil {
			b.Fatal(err)
		}
		if err := m.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: clientID,
			Audiences: []string{"https://rs.example"}, Impersonation: true}); err != nil {
			b.Fatal(err)
		}
		subject := randomToken()
		if err := m.SaveToken(ctx, &oauth2server.Token{AccessToken: subject, AccessTokenExpiresAt: time.Now().Add(time.Hour),
			Scope: []string{scope}, ClientID: "web", UserID: userID, GrantID: randomToken(), IssuedAt: time.Now()}, nil, nil); err != nil {
			b.Fatal(err)
		}
		h := mountOurs(b, m, m, oauth2server.Options{AccessTokenLifetime: accessLifetime}).handler()
		body := "grant_type=" + url.QueryEscape(oauth2server.GrantTokenExchange) + "&subject_token=" + subject +
			"&subject_token_type=" + url.QueryEscape(oauth2server.TokenTypeAccessToken) + "&audience=" + url.QueryEscape("https://rs.example")
		tmpl := requestTemplate(http.MethodPost, "/token")
		measure(b, func(int) {
			serve(b, h, newRequest(tmpl, body))
		})
	})
}
