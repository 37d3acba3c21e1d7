package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The OpenID Connect rows: what an ID token adds to the code exchange, and
// UserInfo beside the bearer row. The server is the same in every row of
// an algorithm: OpenID Connect on, an RS256 key (which OpenID Connect
// requires) and an Ed25519 key; the client's registered ID token algorithm
// picks the key. Only the code's scope differs between openid=no and
// openid=yes, so their difference is the ID token: its claims, the
// at_hash, the signature and the larger response.

// oidcIssuer is the iss of the ID tokens.
const oidcIssuer = "https://as.example.com"

// oidcKeys are the signing keys of the OpenID rows: RS256 (2048 bits, as
// in the JWT rows) and EdDSA.
type oidcKeys struct {
	rsa jwtKey
	ed  jwtKey
}

func newOIDCKeys(tb testing.TB) oidcKeys {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	_, dk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return oidcKeys{rsa: jwtKey{"RS256", jwt.SigningMethodRS256, rk}, ed: jwtKey{"EdDSA", jwt.SigningMethodEdDSA, dk}}
}

// newOursOIDC is oauth2server as an OpenID Provider on the memory model,
// with the bench client registered for ID tokens signed with alg, and the
// user's claims set. It also mounts the UserInfo endpoint at /userinfo.
func newOursOIDC(tb testing.TB, keys oidcKeys, alg string) *ours {
	ctx := context.Background()
	m := memorymodel.New()
	err := m.AddClient(ctx, &oauth2server.Client{
		ID:                       clientID,
		SecretHash:               oauth2server.HashSecret(clientSecret),
		RedirectURIs:             []string{redirectURI},
		Grants:                   []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken},
		Scopes:                   []string{oauth2server.ScopeOpenID, "profile", "email", scope},
		IDTokenSignedResponseAlg: alg,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.AddUser(ctx, &oauth2server.User{ID: userID, Username: "alice"}, oauth2server.HashSecret("pw")); err != nil {
		tb.Fatal(err)
	}
	if err := m.SetUserClaims(ctx, userID, map[string]any{"name": "Alice Liddell", "preferred_username": "alice",
		"email": "alice@example.com", "email_verified": true}); err != nil {
		tb.Fatal(err)
	}
	o := mountOurs(tb, m, m, oauth2server.Options{
		AccessTokenLifetime:  accessLifetime,
		RefreshTokenLifetime: refreshLifetime,
		Issuer:               oidcIssuer,
		OpenID:               &oauth2server.OpenIDOptions{},
		SigningKeys: []oauth2server.SigningKey{{PEM: keys.rsa.pem(tb), Active: true},
			{PEM: keys.ed.pem(tb)}},
	})
	o.echo.Any("/userinfo", handlers.UserInfo(o.srv))
	return o
}

// newOIDCCodes stores n codes of the bench client for the user, as the
// authorization endpoint does after an approved request, with the OpenID
// Connect session (nonce, auth_time, amr) that an ID token reports. With
// openid the scope includes openid; without, the code is the same but
// for it, so that the model holds the same data in both rows (the garbage
// collector's work grows with it) and their difference is the ID token.
func (o *ours) newOIDCCodes(tb testing.TB, n int, openid bool) []string {
	ctx := context.Background()
	client, err := o.model.GetClient(ctx, clientID)
	if err != nil || client == nil {
		tb.Fatal("no client", err)
	}
	now := time.Now()
	codes := make([]string, n)
	for i := range codes {
		codes[i] = randomToken()
		c := &oauth2server.AuthorizationCode{
			Code:                codes[i],
			ExpiresAt:           now.Add(codeLifetime),
			RedirectURI:         redirectURI,
			Scope:               []string{"profile", "email", scope},
			ClientID:            clientID,
			UserID:              userID,
			CodeChallenge:       pkceChallenge,
			CodeChallengeMethod: oauth2server.PKCEMethodS256,
			GrantID:             codes[i],
			IssuedAt:            now,
			OpenID: &oauth2server.OpenIDSession{Nonce: "n-0S6_WzA2Mj", AuthTime: now.Add(-time.Minute),
				AMR: []string{"pwd"}},
		}
		if openid {
			c.Scope = []string{oauth2server.ScopeOpenID, "profile", "email", scope}
		}
		if err := o.model.SaveAuthorizationCode(ctx, c, client, &oauth2server.User{ID: userID}); err != nil {
			tb.Fatal(err)
		}
	}
	return codes
}

// BenchmarkIDToken measures the authorization code exchange (client
// authentication, PKCE, the single-use code, token generation, SaveToken,
// the JSON response) with and without an ID token, per ID token
// algorithm, beside the raw signature of that algorithm: the golang-jwt
// Sign of a signing input as long as the ID token's. The ID token's cost
// is openid=yes minus openid=no; it should stay within the raw signature
// plus 10 %. Both rows write their responses into one reused buffer
// (serveReused), so that the harness does not charge the ID token for the
// recorder's larger allocation.
func BenchmarkIDToken(b *testing.B) {
	keys := newOIDCKeys(b)
	for _, k := range []jwtKey{keys.rsa, keys.ed} {
		for _, openid := range []bool{false, true} {
			name := "alg=" + k.alg + "/openid=no"
			if openid {
				name = "alg=" + k.alg + "/openid=yes"
			}
			b.Run(name, func(b *testing.B) {
				o := newOursOIDC(b, keys, k.alg)
				codes := o.newOIDCCodes(b, b.N, openid)
				bodies := make([]string, len(codes))
				for i, code := range codes {
					bodies[i] = codeForm(code)
				}
				tmpl := requestTemplate(http.MethodPost, "/token")
				resp := bytes.NewBuffer(make([]byte, 0, 4096))
				measure(b, func(i int) {
					rec := serveReused(b, o.echo, newRequest(tmpl, bodies[i]), resp)
					if openid != bytes.Contains(rec.Body.Bytes(), []byte(`"id_token"`)) {
						b.Fatalf("openid=%v: %s", openid, rec.Body)
					}
				})
			})
		}
		b.Run("alg="+k.alg+"/raw=signature", func(b *testing.B) {
			input := idTokenSigningInput(b, keys, k)
			measure(b, func(int) {
				if _, err := k.method.Sign(input, k.key); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkIDTokenInterleaved runs BenchmarkIDToken's three rows of an
// algorithm in one loop, a request of each in turn (their order rotating),
// and times each request: the separate rows run seconds apart, and a
// machine whose speed drifts by 10 % in that time drowns a difference of
// a few percent of a signature. It reports the wall time per request of
// each (openid-ns/op, plain-ns/op, raw-ns/op) and idtoken/raw, the ID
// token's cost (openid − plain) over the raw signature.
func BenchmarkIDTokenInterleaved(b *testing.B) {
	keys := newOIDCKeys(b)
	for _, k := range []jwtKey{keys.rsa, keys.ed} {
		b.Run("alg="+k.alg, func(b *testing.B) {
			o := newOursOIDC(b, keys, k.alg)
			bodies := [2][]string{}
			for j, openid := range []bool{true, false} {
				for _, code := range o.newOIDCCodes(b, b.N, openid) {
					bodies[j] = append(bodies[j], codeForm(code))
				}
			}
			input := idTokenSigningInput(b, keys, k)
			tmpl := requestTemplate(http.MethodPost, "/token")
			resp := bytes.NewBuffer(make([]byte, 0, 4096))
			spent := interleave(b, [3]func(i int){
				func(i int) { serveReused(b, o.echo, newRequest(tmpl, bodies[0][i]), resp) },
				func(i int) { serveReused(b, o.echo, newRequest(tmpl, bodies[1][i]), resp) },
				func(int) {
					if _, err := k.method.Sign(input, k.key); err != nil {
						b.Fatal(err)
					}
				},
			})
			reportInterleaved(b, spent, "openid", "plain", "idtoken/raw")
		})
	}
}

// idTokenSigningInput returns the signing input (header.payload) of a
// real ID token of alg, so that the raw row hashes as many bytes.
func idTokenSigningInput(tb testing.TB, keys oidcKeys, k jwtKey) string {
	o := newOursOIDC(tb, keys, k.alg)
	code := o.newOIDCCodes(tb, 1, true)[0]
	rec := serve(tb, o.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(code)))
	raw := jsonString(rec.Body.Bytes(), "id_token")
	i := strings.LastIndexByte(raw, '.')
	if i < 0 {
		tb.Fatalf("no ID token in %s", rec.Body)
	}
	return raw[:i]
}

// BenchmarkUserInfo puts UserInfo (GET /userinfo through
// handlers.UserInfo with an access token of an OpenID Connect grant: the
// bearer check, the user's claims from the model, the claims of the
// token's scope as JSON) beside the bearer row on the same server (GET
// /api/me through the Authenticate middleware with the same token).
func BenchmarkUserInfo(b *testing.B) {
	keys := newOIDCKeys(b)
	for _, path := range []string{"/api/me", "/userinfo"} {
		name := "kind=bearer"
		if path == "/userinfo" {
			name = "kind=userinfo"
		}
		b.Run(name+"/impl=oauth2server", func(b *testing.B) {
			o := newOursOIDC(b, keys, keys.rsa.alg)
			code := o.newOIDCCodes(b, 1, true)[0]
			rec := serve(b, o.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(code)))
			tmpl := requestTemplate(http.MethodGet, path)
			tmpl.Header.Set("Authorization", "Bearer "+jsonString(rec.Body.Bytes(), "access_token"))
			measure(b, func(int) {
				rec := serve(b, o.echo, newRequest(tmpl, ""))
				if path == "/userinfo" && !bytes.Contains(rec.Body.Bytes(), []byte(`"email":"alice@example.com"`)) {
					b.Fatalf("userinfo: %s", rec.Body)
				}
			})
		})
	}
}

// TestOIDCRows checks that the OpenID rows do what they claim: an ID token
// of the right algorithm only with openid, and UserInfo with the claims of
// the scope.
func TestOIDCRows(t *testing.T) {
	keys := newOIDCKeys(t)
	for _, k := range []jwtKey{keys.rsa, keys.ed} {
		o := newOursOIDC(t, keys, k.alg)
		codes := o.newOIDCCodes(t, 1, true)
		rec := serve(t, o.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(codes[0])))
		raw := jsonString(rec.Body.Bytes(), "id_token")
		tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
		if err != nil {
			t.Fatalf("%s: %v: %s", k.alg, err, rec.Body)
		}
		if tok.Method.Alg() != k.alg {
			t.Errorf("ID token alg %s, want %s", tok.Method.Alg(), k.alg)
		}
		codes = o.newOIDCCodes(t, 1, false)
		rec = serve(t, o.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(codes[0])))
		if strings.Contains(rec.Body.String(), "id_token") {
			t.Errorf("an ID token without openid: %s", rec.Body)
		}
		if got := idTokenSigningInput(t, keys, k); strings.Count(got, ".") != 1 {
			t.Errorf("signing input %q", got)
		}
	}
	o := newOursOIDC(t, keys, keys.rsa.alg)
	rec := serve(t, o.echo, newRequest(requestTemplate(http.MethodPost, "/token"), codeForm(o.newOIDCCodes(t, 1, true)[0])))
	tmpl := requestTemplate(http.MethodGet, "/userinfo")
	tmpl.Header.Set("Authorization", "Bearer "+jsonString(rec.Body.Bytes(), "access_token"))
	rec = serve(t, o.echo, newRequest(tmpl, ""))
	for _, want := range []string{`"sub":"user-1"`, `"name":"Alice Liddell"`, `"email_verified":true`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("userinfo lacks %s: %s", want, rec.Body)
		}
	}
}
