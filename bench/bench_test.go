package bench

import (
	"net/http"
	"testing"
)

// BenchmarkToken measures one token endpoint request per iteration, for
// each grant and implementation: the request is parsed, the client
// authenticated (client_secret_basic), the grant checked, an opaque token
// generated and saved to memory storage, and the JSON response written.
func BenchmarkToken(b *testing.B) {
	b.Run("grant=client_credentials", func(b *testing.B) {
		for _, c := range contenders() {
			b.Run("impl="+c.name, func(b *testing.B) {
				h := c.new(b).handler()
				tmpl := requestTemplate(http.MethodPost, "/token")
				measure(b, func(int) {
					serve(b, h, newRequest(tmpl, ccForm))
				})
			})
		}
	})
	b.Run("grant=authorization_code_pkce", func(b *testing.B) {
		for _, c := range contenders() {
			b.Run("impl="+c.name, func(b *testing.B) {
				impl := c.new(b)
				h := impl.handler()
				codes := impl.newCodes(b, b.N)
				bodies := make([]string, len(codes))
				for i, code := range codes {
					bodies[i] = codeForm(code)
				}
				tmpl := requestTemplate(http.MethodPost, "/token")
				measure(b, func(i int) {
					serve(b, h, newRequest(tmpl, bodies[i]))
				})
			})
		}
	})
	b.Run("grant=refresh_token_rotation", func(b *testing.B) {
		for _, c := range contenders() {
			b.Run("impl="+c.name, func(b *testing.B) {
				impl := c.new(b)
				h := impl.handler()
				rt := impl.newRefreshToken(b)
				tmpl := requestTemplate(http.MethodPost, "/token")
				measure(b, func(int) {
					// Each answer carries the rotated refresh token that the
					// next request presents.
					rec := serve(b, h, newRequest(tmpl, refreshForm(rt)))
					if rt = jsonString(rec.Body.Bytes(), "refresh_token"); rt == "" {
						b.Fatalf("no refresh token in %s", rec.Body)
					}
				})
			})
		}
	})
}

// BenchmarkBearer measures a protected request (GET /api/me) whose bearer
// token is validated before a handler writes a small JSON document:
// oauth2server (see oursAuthenticate), go-oauth2 ValidationBearerToken,
// fosite IntrospectToken.
func BenchmarkBearer(b *testing.B) {
	for _, c := range contenders() {
		b.Run("impl="+c.name, func(b *testing.B) {
			impl := c.new(b)
			h := impl.handler()
			tmpl := requestTemplate(http.MethodGet, "/api/me")
			tmpl.Header.Set("Authorization", "Bearer "+impl.newAccessToken(b))
			measure(b, func(int) {
				serve(b, h, newRequest(tmpl, ""))
			})
		})
	}
}

// BenchmarkCeiling measures Echo alone, with the same harness: a handler
// that writes a fixed token response (kind=token, the ceiling of the token
// endpoint rows) and one that writes the protected document without any
// check (kind=resource, the ceiling of the bearer rows).
func BenchmarkCeiling(b *testing.B) {
	b.Run("kind=token/impl=echo", func(b *testing.B) {
		h := newCeiling()
		tmpl := requestTemplate(http.MethodPost, "/token")
		measure(b, func(int) {
			serve(b, h, newRequest(tmpl, ccForm))
		})
	})
	b.Run("kind=resource/impl=echo", func(b *testing.B) {
		h := newCeiling()
		tmpl := requestTemplate(http.MethodGet, "/api/me")
		tmpl.Header.Set("Authorization", "Bearer "+randomToken())
		measure(b, func(int) {
			serve(b, h, newRequest(tmpl, ""))
		})
	})
}
