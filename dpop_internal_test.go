package oauth2server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 7638 §3.1: the thumbprint of the example RSA key, whatever other
// members the jwk has.
func TestJWKThumbprintVector(t *testing.T) {
	jwk := map[string]any{"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
		"n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	for _, alg := range []string{"RS256", "PS256"} {
		_, jkt, err := publicJWK(jwk, alg)
		require.NoError(t, err)
		assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", jkt)
	}
	// The key type must be the algorithm's own.
	for _, alg := range []string{"ES256", "EdDSA", "HS256", "none"} {
		_, _, err := publicJWK(jwk, alg)
		assert.Error(t, err, alg)
	}
	// A leading zero in n does not change the thumbprint (RFC 7638 §3.3:
	// the minimal encoding).
	n, err := base64.RawURLEncoding.DecodeString(jwk["n"].(string))
	require.NoError(t, err)
	padded := map[string]any{"kty": "RSA", "e": "AAEAAQ", "n": base64.RawURLEncoding.EncodeToString(append([]byte{0}, n...))}
	_, jkt, err := publicJWK(padded, "RS256")
	require.NoError(t, err)
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", jkt)
}

// htu comparison normalizes case, default ports and empty paths,
// and ignores query and fragment.
func TestNormalizeHTU(t *testing.T) {
	for in, want := range map[string]string{
		"https://AS.example.com/token":         "https://as.example.com/token",
		"HTTPS://as.example.com:443/token?x#y": "https://as.example.com/token",
		"http://as.example.com:80":             "http://as.example.com/",
		"http://as.example.com:8080/t":         "http://as.example.com:8080/t",
		"https://[::1]:8443/t":                 "https://[::1]:8443/t",
		"https://as.example.com/a%2Fb":         "https://as.example.com/a/b",
	} {
		got, ok := normalizeHTU(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "/token", "ftp://as.example.com/t", "https://user@as.example.com/t", "https://%zz/", "urn:x"} {
		_, ok := normalizeHTU(in)
		assert.False(t, ok, in)
	}
}

// ecKeyAndJWK returns a new P-256 key and its public jwk.
func ecKeyAndJWK(tb testing.TB) (*ecdsa.PrivateKey, map[string]any) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	point, err := key.PublicKey.Bytes()
	require.NoError(tb, err)
	return key, map[string]any{"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(point[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(point[33:])}
}

// FuzzParseDPoPProof: whatever the header holds, the parser answers
// without panicking, and accepts nothing it did not verify.
func FuzzParseDPoPProof(f *testing.F) {
	key, jwk := ecKeyAndJWK(f)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"jti": "j", "htm": "POST", "htu": "https://a/t", "iat": 1})
	tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", jwk
	valid, err := tok.SignedString(key)
	require.NoError(f, err)
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".e30." + parts[2])
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.")
	f.Add("eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0IiwiandrIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoiIiwieSI6IiJ9fQ.e30.AA")
	f.Add("eyJhbGciOiJSUzI1NiIsInR5cCI6ImRwb3Arand0IiwiandrIjp7Imt0eSI6IlJTQSIsIm4iOiJBQSIsImUiOiJBUUFCIn19.e30.AA")
	f.Add("eyJhbGciOiJFZERTQSIsInR5cCI6ImRwb3Arand0IiwiandrIjp7Imt0eSI6Ik9LUCIsImNydiI6IkVkMjU1MTkiLCJ4IjpbXX19.e30.AA")
	f.Add("...")
	f.Add("")
	p := jwt.NewParser(jwt.WithValidMethods(dpopSupportedAlgorithms), jwt.WithoutClaimsValidation())
	cache := &dpopKeyCache{}
	f.Fuzz(func(t *testing.T, raw string) {
		claims, jkt, err := parseDPoPProof(p, raw, nil)
		// The key cache changes nothing but the work: the same answer,
		// with the header cached or not (cache is shared across inputs).
		cclaims, cjkt, cerr := parseDPoPProof(p, raw, cache)
		assert.Equal(t, err == nil, cerr == nil, "cached and uncached parses disagree")
		assert.Equal(t, jkt, cjkt)
		assert.Equal(t, claims, cclaims)
		if err != nil {
			assert.Nil(t, claims)
			assert.Empty(t, jkt)
			return
		}
		require.NotNil(t, claims)
		assert.Len(t, jkt, dpopThumbprintEncodedBytes, "a verified proof has its key's thumbprint")
	})
}

// under the FAPI 2.0 profile only an authenticated client
// registered for private_key_jwt passes; the assertion itself is checked
// by client authentication.
func TestProfileClient(t *testing.T) {
	s := &Server{fapi: true}
	assert.NoError(t, s.profileClient(&Client{TokenEndpointAuthMethod: "private_key_jwt"}, true))
	for name, tc := range map[string]struct {
		client        *Client
		authenticated bool
	}{
		"nok, client_secret_basic": {&Client{TokenEndpointAuthMethod: AuthMethodClientSecretBasic}, true},
		"nok, unpinned method":     {&Client{SecretHash: "x"}, true},
		"nok, public":              {&Client{TokenEndpointAuthMethod: AuthMethodNone}, false},
		"nok, not authenticated":   {&Client{TokenEndpointAuthMethod: "private_key_jwt"}, false},
	} {
		assert.ErrorIs(t, s.profileClient(tc.client, tc.authenticated), errFAPIClient, name)
	}
	assert.NoError(t, (&Server{}).profileClient(&Client{}, false), "no profile, no check")
}

// the URL of the request, which htu must name, is normalized the
// same way: host case, default port, IPv6 literals, TLS.
func TestRequestHTU(t *testing.T) {
	s, err := New(nopModel{}, Options{DPoP: &DPoPOptions{}, Grants: []string{}})
	require.NoError(t, err)
	for _, tc := range []struct {
		target, host string
		tls          bool
		want         string
	}{
		{"/token", "Example.COM:80", false, "http://example.com/token"},
		{"/token", "as.example.com:443", true, "https://as.example.com/token"},
		{"/token", "as.example.com:8443", true, "https://as.example.com:8443/token"},
		{"/a%2Fb", "[::1]:9096", false, "http://[::1]:9096/a/b"},
		{"/", "[::1]", false, "http://[::1]/"},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.target, nil)
		r.Host = tc.host
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		got, ok := s.requestHTU(r)
		assert.True(t, ok, tc.host)
		assert.Equal(t, tc.want, got, tc.host)
		n, ok := normalizeHTU(tc.want)
		assert.True(t, ok)
		assert.Equal(t, n, got, "the claim's normalization agrees")
	}
	r := httptest.NewRequest(http.MethodPost, "/token", nil)
	r.Host = ""
	_, ok := s.requestHTU(r)
	assert.False(t, ok)
}

// The key cache serves a header seen before without its checks, but never
// a signature: a proof under a cached header with a forged signature, or
// a header that failed its checks, is refused as without the cache; and
// it holds at most maxDPoPCachedKeys headers.
func TestDPoPKeyCache(t *testing.T) {
	key, jwk := ecKeyAndJWK(t)
	sign := func(jwk map[string]any, jti string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"jti": jti, "htm": "POST", "htu": "https://a/t", "iat": 1})
		tok.Header["typ"] = dpopJWTType
		tok.Header["jwk"] = jwk
		raw, err := tok.SignedString(key)
		require.NoError(t, err)
		return raw
	}
	p := jwt.NewParser(jwt.WithValidMethods(dpopSupportedAlgorithms), jwt.WithoutClaimsValidation())
	cache := &dpopKeyCache{}

	first, second := sign(jwk, "1"), sign(jwk, "2")
	_, jkt1, err := parseDPoPProof(p, first, cache)
	require.NoError(t, err)
	_, jkt2, err := parseDPoPProof(p, second, cache)
	require.NoError(t, err)
	assert.Equal(t, jkt1, jkt2)
	assert.EqualValues(t, 1, cache.n.Load(), "one header, cached once")

	parts := strings.Split(second, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Split(first, ".")[2]
	_, _, err = parseDPoPProof(p, forged, cache)
	assert.Error(t, err, "a cached header does not vouch for a signature")

	d, err := key.Bytes() // the private scalar
	require.NoError(t, err)
	private := map[string]any{"d": base64.RawURLEncoding.EncodeToString(d)}
	for k, v := range jwk {
		private[k] = v
	}
	for range 2 {
		_, _, err = parseDPoPProof(p, sign(private, "3"), cache)
		assert.Error(t, err, "a refused header stays refused")
	}
	assert.EqualValues(t, 1, cache.n.Load(), "a refused header is not cached")

	for i := range maxDPoPCachedKeys {
		cache.put("h"+strconv.Itoa(i), nil, "")
	}
	assert.EqualValues(t, 1, cache.n.Load(), "a full cache starts over")
	_, ok := cache.get(strings.Split(first, ".")[0])
	assert.False(t, ok)
	_, ok = cache.get("h" + strconv.Itoa(maxDPoPCachedKeys-1))
	assert.True(t, ok)
}
