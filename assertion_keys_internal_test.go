package oauth2server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

func ecJWK(t testing.TB, kid string) (map[string]any, *ecdsa.PrivateKey) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	raw, err := k.PublicKey.Bytes()
	require.NoError(t, err)
	return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(raw[1:33]), "y": b64(raw[33:])}, k
}

func rsaJWK(t testing.TB, bits int, kid string) map[string]any {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(t, err)
	return map[string]any{"kty": "RSA", "kid": kid, "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func setOf(t testing.TB, keys ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return b
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// only public keys for signatures are usable, each with one
// algorithm.
func TestParseKeySet(t *testing.T) {
	ec, _ := ecJWK(t, "ec")
	rsa2048 := rsaJWK(t, 2048, "rsa")
	rsa1024 := rsaJWK(t, 1024, "small")
	tests := []struct {
		name       string
		givenSet   []byte
		givenPin   string
		expectAlgs []string // of the usable keys, in order
		expectErr  bool
	}{
		{name: "ok, EC P-256 is ES256", givenSet: setOf(t, ec), expectAlgs: []string{"ES256"}},
		{name: "ok, RSA without alg is RS256", givenSet: setOf(t, rsa2048), expectAlgs: []string{"RS256"}},
		{name: "ok, RSA with alg PS384", givenSet: setOf(t, with(rsa2048, "alg", "PS384")), expectAlgs: []string{"PS384"}},
		{name: "ok, RSA without alg takes the pinned one", givenSet: setOf(t, rsa2048), givenPin: "PS256", expectAlgs: []string{"PS256"}},
		{name: "ok, use sig and key_ops verify", givenSet: setOf(t, with(ec, "use", "sig", "key_ops", []string{"verify"})), expectAlgs: []string{"ES256"}},
		{name: "ok, an OKP Ed25519 key", givenSet: setOf(t, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(make([]byte, 32))}),
			expectAlgs: []string{"EdDSA"}},
		{name: "nok skipped, a key with private members", givenSet: setOf(t, with(ec, "d", "AAAA"))},
		{name: "nok skipped, a symmetric key", givenSet: setOf(t, map[string]any{"kty": "oct", "k": "c2VjcmV0"})},
		{name: "nok skipped, use enc", givenSet: setOf(t, with(ec, "use", "enc"))},
		{name: "nok skipped, key_ops without verify", givenSet: setOf(t, with(ec, "key_ops", []string{"encrypt"}))},
		{name: "nok skipped, RSA under 2048 bits", givenSet: setOf(t, rsa1024)},
		{name: "nok skipped, EC alg that is not its curve's", givenSet: setOf(t, with(ec, "alg", "ES384"))},
		{name: "nok skipped, RSA with alg HS256 (never HMAC with a key pair)", givenSet: setOf(t, with(rsa2048, "alg", "HS256"))},
		{name: "nok skipped, pinned to another algorithm", givenSet: setOf(t, ec), givenPin: "EdDSA"},
		{name: "nok skipped, pinned to HS256", givenSet: setOf(t, rsa2048), givenPin: "HS256"},
		{name: "nok skipped, an EC point off the curve", givenSet: setOf(t, with(ec, "y", b64(make([]byte, 32))))},
		{name: "nok skipped, short EC coordinates", givenSet: setOf(t, with(ec, "x", "AAAA"))},
		{name: "nok skipped, an unknown curve", givenSet: setOf(t, with(ec, "crv", "secp256k1"))},
		{name: "nok skipped, an unknown kty", givenSet: setOf(t, map[string]any{"kty": "XYZ"})},
		{name: "nok skipped, RSA with an even exponent", givenSet: setOf(t, with(rsa2048, "e", b64([]byte{2})))},
		{name: "nok skipped, RSA with a five-byte exponent", givenSet: setOf(t, with(rsa2048, "e", b64([]byte{1, 0, 0, 0, 1})))},
		{name: "ok, the usable keys of a mixed set", givenSet: setOf(t, rsa1024, ec, with(ec, "use", "enc"), rsa2048),
			expectAlgs: []string{"ES256", "RS256"}},
		{name: "nok, not JSON", givenSet: []byte(`{"keys":`), expectErr: true},
		{name: "nok, keys is not an array", givenSet: []byte(`{"keys":{}}`), expectErr: true},
		{name: "nok, more than 32 keys", givenSet: setOf(t, func() []map[string]any {
			out := make([]map[string]any, 33)
			for i := range out {
				out[i] = ec
			}
			return out
		}()...), expectErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := parseKeySet(tc.givenSet, tc.givenPin)
			if tc.expectErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			var algs []string
			for _, k := range ks.keys {
				algs = append(algs, k.alg)
			}
			assert.Equal(t, tc.expectAlgs, algs)
		})
	}
}

func TestKeySetFind(t *testing.T) {
	a, _ := ecJWK(t, "a")
	b, _ := ecJWK(t, "b")
	dup, _ := ecJWK(t, "a")
	noKID := with(a)
	delete(noKID, "kid")
	tests := []struct {
		name      string
		givenSet  []byte
		whenKID   string
		whenAlg   string
		expectKID string
		expectOK  bool
	}{
		{"ok, by kid", setOf(t, a, b), "b", "ES256", "b", true},
		{"ok, no kid and one key of the alg", setOf(t, a), "", "ES256", "a", true},
		{"nok, no kid and two keys of the alg", setOf(t, a, b), "", "ES256", "", false},
		{"nok, a duplicate kid", setOf(t, a, dup), "a", "ES256", "", false},
		{"nok, the kid with another alg", setOf(t, a), "a", "RS256", "", false},
		{"nok, an unknown kid", setOf(t, a), "c", "ES256", "", false},
		{"nok, a kid does not name a key without kid", setOf(t, noKID), "a", "ES256", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := parseKeySet(tc.givenSet, "")
			require.NoError(t, err)
			k, ok := ks.find(tc.whenKID, tc.whenAlg)
			require.Equal(t, tc.expectOK, ok)
			if ok {
				assert.Equal(t, tc.expectKID, k.kid)
			}
		})
	}
}

func FuzzParseKeySet(f *testing.F) {
	ec, _ := ecJWK(f, "ec")
	f.Add(setOf(f, ec))
	f.Add(setOf(f, rsaJWK(f, 2048, "rsa")))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := parseKeySet(data, "")
		if err != nil {
			return
		}
		for _, k := range ks.keys {
			if k.alg == "" || k.key == nil || strings.HasPrefix(k.alg, "HS") {
				t.Fatalf("unusable key %+v", k)
			}
		}
	})
}

// assertionServer is a Server whose one client "c" authenticates with
// private_key_jwt and the given key set.
type assertionModel struct {
	nopModel
	client *Client
}

func (m assertionModel) GetClient(_ context.Context, id string) (*Client, error) {
	if id == m.client.ID {
		return m.client, nil
	}
	return nil, nil
}

// FuzzClientAssertion feeds arbitrary client_assertion values to client
// authentication: nothing panics, every refusal is invalid_client, and
// nothing without the client's signature is accepted.
func FuzzClientAssertion(f *testing.F) {
	jwk, key := ecJWK(f, "k")
	client := &Client{ID: "c", TokenEndpointAuthMethod: AuthMethodPrivateKeyJWT, JWKS: string(setOf(f, jwk))}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := New(assertionModel{client: client}, Options{Issuer: "https://as.example", Now: func() time.Time { return now },
		Grants: []string{GrantClientCredentials}, JWT: &JWTOptions{}, AllowGeneratedKeys: true, Audience: "https://rs.example"})
	require.NoError(f, err)
	valid, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "c", "sub": "c", "aud": "https://as.example",
		"exp": now.Add(time.Minute).Unix(), "jti": "x"}).SignedString(key)
	require.NoError(f, err)
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".")
	f.Add(b64([]byte(`{"alg":"HS256","kid":"k"}`)) + "." + parts[1] + "." + parts[2])
	f.Add(b64([]byte(`{"alg":"ES256","crit":["b64"]}`)) + "." + parts[1] + "." + parts[2])
	f.Add(b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`{"iss":"c","aud":{"x":1},"exp":"soon"}`)) + "." + parts[2])
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		if raw == valid {
			return
		}
		c, err := s.authenticateAssertion(context.Background(), map[string]string{
			"client_assertion_type": ClientAssertionTypeJWTBearer, "client_assertion": raw,
		})
		if err == nil {
			// Only a re-encoding of the valid assertion verifies; its jti
			// is then spent, as the next run must see.
			require.Equal(t, "c", c.ID)
			return
		}
		assert.Equal(t, oerrors.ErrInvalidClient.Code, oerrors.From(err).Code, fmt.Sprint(err))
	})
}
