package oauth2server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The URL of the token endpoint as httptest.NewRequest addresses it.
const tokenHTU = "http://example.com/token"

// dpopKey is a client's DPoP key pair with its public JWK and the RFC 7638
// thumbprint, computed here independently of the library.
type dpopKey struct {
	alg    string
	signer crypto.Signer
	jwk    map[string]any
	jkt    string
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// newDPoPKey makes a key for alg: ES256, EdDSA, PS256 or RS256.
func newDPoPKey(t *testing.T, alg string) *dpopKey {
	t.Helper()
	k := &dpopKey{alg: alg}
	var canonical string
	switch alg {
	case "ES256":
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		point, err := priv.PublicKey.Bytes()
		require.NoError(t, err)
		x, y := b64u(point[1:33]), b64u(point[33:])
		k.signer, k.jwk = priv, map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y}
		canonical = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, x, y)
	case "EdDSA":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		x := b64u(pub)
		k.signer, k.jwk = priv, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": x}
		canonical = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, x)
	case "PS256", "RS256":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		n, e := b64u(priv.N.Bytes()), b64u(big.NewInt(int64(priv.E)).Bytes())
		k.signer, k.jwk = priv, map[string]any{"kty": "RSA", "n": n, "e": e}
		canonical = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, e, n)
	default:
		t.Fatalf("unknown alg %s", alg)
	}
	sum := sha256.Sum256([]byte(canonical))
	k.jkt = b64u(sum[:])
	return k
}

// proofOpts change a proof before it is signed.
type proofOpts struct {
	header  func(map[string]any)
	claims  func(jwt.MapClaims)
	method  jwt.SigningMethod // default the key's algorithm
	signKey any               // default the key itself
}

// proof signs a DPoP proof for method and htu at time now, with ath for
// accessToken when it is set.
func (k *dpopKey) proof(t *testing.T, now time.Time, method, htu, accessToken string, o proofOpts) string {
	t.Helper()
	claims := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": htu, "iat": now.Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64u(sum[:])
	}
	if o.claims != nil {
		o.claims(claims)
	}
	m := o.method
	if m == nil {
		m = jwt.GetSigningMethod(k.alg)
	}
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = k.jwk
	if o.header != nil {
		o.header(tok.Header)
	}
	key := o.signKey
	if key == nil {
		key = k.signer
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// withDPoP turns DPoP on, mutated by o.
func withDPoP(o func(*oauth2server.DPoPOptions)) envOption {
	return withOptions(func(opts *oauth2server.Options) {
		opts.DPoP = &oauth2server.DPoPOptions{}
		if o != nil {
			o(opts.DPoP)
		}
	})
}

// dpopToken sends form values to the token endpoint as confID with the
// given DPoP header values, through Echo.
func (env *testEnv) dpopToken(form url.Values, clientID, secret string, proofs ...string) answer {
	env.t.Helper()
	r := tokenReq{body: form.Encode()}
	if secret != "" {
		r.auth = basic(clientID, secret)
	} else {
		form.Set("client_id", clientID)
		r.body = form.Encode()
	}
	req := r.build()
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return env.doRequest(req)
}

var clientCredentials = url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}

// every refusal of a DPoP proof at the token
// endpoint is 400 invalid_dpop_proof and issues nothing; a good proof
// binds the token (token_type DPoP).
func TestDPoPProofAtTokenEndpoint(t *testing.T) {
	t.Parallel()
	es := newDPoPKey(t, "ES256")
	other := newDPoPKey(t, "ES256")
	rsaKey := newDPoPKey(t, "RS256")
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	var testCases = []struct {
		name       string
		key        *dpopKey
		method     string
		htu        string
		age        time.Duration // subtracted from now for iat
		opts       proofOpts
		raw        string // a raw header instead of a proof
		twice      bool   // send the same proof again first
		expectCode string
	}{
		{name: "ok, ES256", key: es},
		{name: "ok, EdDSA", key: newDPoPKey(t, "EdDSA")},
		{name: "ok, PS256", key: newDPoPKey(t, "PS256")},
		{name: "ok, RS256", key: rsaKey},
		{name: "ok, iat at the edge of the window", key: es, age: time.Minute},
		{name: "ok, iat slightly ahead", key: es, age: -10 * time.Second},
		{name: "ok, htu normalized: case, default port, query and fragment ignored", key: es,
			htu: "HTTP://Example.COM:80/token?x=1#f"},
		{name: "nok, wrong htm", key: es, method: http.MethodGet, expectCode: "invalid_dpop_proof"},
		{name: "nok, htm in lower case", key: es, method: "post", expectCode: "invalid_dpop_proof"},
		{name: "nok, wrong htu path", key: es, htu: "http://example.com/introspect", expectCode: "invalid_dpop_proof"},
		{name: "nok, wrong htu host", key: es, htu: "http://evil.example/token", expectCode: "invalid_dpop_proof"},
		{name: "nok, wrong htu scheme", key: es, htu: "https://example.com/token", expectCode: "invalid_dpop_proof"},
		{name: "nok, htu not a URL", key: es, htu: "token", expectCode: "invalid_dpop_proof"},
		{name: "nok, stale iat", key: es, age: time.Minute + time.Second, expectCode: "invalid_dpop_proof"},
		{name: "nok, iat in the future", key: es, age: -11 * time.Second, expectCode: "invalid_dpop_proof"},
		{name: "nok, replayed jti", key: es, twice: true, expectCode: "invalid_dpop_proof"},
		{name: "nok, private key in the jwk", key: es, opts: proofOpts{header: func(h map[string]any) {
			jwk := map[string]any{}
			for k, v := range es.jwk {
				jwk[k] = v
			}
			d, err := es.signer.(*ecdsa.PrivateKey).Bytes()
			require.NoError(t, err)
			jwk["d"] = b64u(d)
			h["jwk"] = jwk
		}}, expectCode: "invalid_dpop_proof"},
		{name: "nok, symmetric jwk", key: es, opts: proofOpts{method: jwt.SigningMethodHS256, signKey: []byte("k"),
			header: func(h map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": "aw"} }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, alg none", key: es, opts: proofOpts{method: jwt.SigningMethodNone, signKey: jwt.UnsafeAllowNoneSignatureType},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, HS256 keyed with the public jwk", key: es,
			opts: proofOpts{method: jwt.SigningMethodHS256, signKey: []byte(es.jwk["x"].(string))}, expectCode: "invalid_dpop_proof"},
		{name: "nok, another key's signature", key: es, opts: proofOpts{signKey: other.signer}, expectCode: "invalid_dpop_proof"},
		{name: "nok, alg not accepted (ES384)", key: es, opts: proofOpts{method: jwt.SigningMethodES384,
			signKey: mustECKey(t, elliptic.P384())}, expectCode: "invalid_dpop_proof"},
		{name: "nok, alg and key type disagree", key: es, opts: proofOpts{method: jwt.SigningMethodRS256, signKey: rsaKey.signer},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, RSA key under 2048 bits", key: rsaKey, opts: proofOpts{signKey: weakRSA, header: func(h map[string]any) {
			h["jwk"] = map[string]any{"kty": "RSA", "n": b64u(weakRSA.N.Bytes()), "e": "AQAB"}
		}}, expectCode: "invalid_dpop_proof"},
		{name: "nok, EC point not on the curve", key: es, opts: proofOpts{header: func(h map[string]any) {
			h["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": es.jwk["x"], "y": b64u(make([]byte, 32))}
		}}, expectCode: "invalid_dpop_proof"},
		{name: "nok, typ JWT", key: es, opts: proofOpts{header: func(h map[string]any) { h["typ"] = "JWT" }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, no typ", key: es, opts: proofOpts{header: func(h map[string]any) { delete(h, "typ") }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, no jwk", key: es, opts: proofOpts{header: func(h map[string]any) { delete(h, "jwk") }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, jwk not an object", key: es, opts: proofOpts{header: func(h map[string]any) { h["jwk"] = "key" }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, no jti", key: es, opts: proofOpts{claims: func(c jwt.MapClaims) { delete(c, "jti") }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, jti too long", key: es, opts: proofOpts{claims: func(c jwt.MapClaims) { c["jti"] = strings.Repeat("j", 257) }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, jti not a string", key: es, opts: proofOpts{claims: func(c jwt.MapClaims) { c["jti"] = 7 }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, no htm", key: es, opts: proofOpts{claims: func(c jwt.MapClaims) { delete(c, "htm") }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, no htu", key: es, opts: proofOpts{claims: func(c jwt.MapClaims) { delete(c, "htu") }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, no iat", key: es, opts: proofOpts{claims: func(c jwt.MapClaims) { delete(c, "iat") }},
			expectCode: "invalid_dpop_proof"},
		{name: "nok, not a JWT", raw: "not-a-jwt", expectCode: "invalid_dpop_proof"},
		{name: "nok, oversized", raw: strings.Repeat("a", 9000) + ".b.c", expectCode: "invalid_dpop_proof"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, withDPoP(nil))
			now := env.clock.Now()
			method, htu := http.MethodPost, tokenHTU
			if tc.method != "" {
				method = tc.method
			}
			if tc.htu != "" {
				htu = tc.htu
			}
			proof := tc.raw
			if proof == "" {
				proof = tc.key.proof(t, now.Add(-tc.age), method, htu, "", tc.opts)
			}
			if tc.twice {
				requireOK(t, withDPoPType(env.dpopToken(clientCredentials, confID, confSecret, proof)))
			}
			got := env.dpopToken(clientCredentials, confID, confSecret, proof)
			if tc.expectCode != "" {
				requireError(t, got, http.StatusBadRequest, tc.expectCode, false)
				return
			}
			requireOK(t, withDPoPType(got))
			assert.Equal(t, "DPoP", got.body["token_type"])
			assert.Equal(t, tc.key.jkt, env.accessToken(str(got.body["access_token"])).DPoPJKT, "bound to the proof's key")
		})
	}
}

// withDPoPType lets requireOK, which wants a Bearer answer, check a DPoP
// one.
func withDPoPType(a answer) answer {
	if a.body["token_type"] == "DPoP" {
		body := make(map[string]any, len(a.body))
		for k, v := range a.body {
			body[k] = v
		}
		body["token_type"] = "Bearer"
		a.body = body
	}
	return a
}

func mustECKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return k
}

// one DPoP header, holding one proof.
func TestDPoPTwoHeaders(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withDPoP(nil))
	k := newDPoPKey(t, "ES256")
	now := env.clock.Now()
	got := env.dpopToken(clientCredentials, confID, confSecret,
		k.proof(t, now, http.MethodPost, tokenHTU, "", proofOpts{}), k.proof(t, now, http.MethodPost, tokenHTU, "", proofOpts{}))
	requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)
	assert.Contains(t, got.body["error_description"], "more than one")
}

// the jti is claimed through the model's CounterModel, so a proof
// accepted by one instance is refused by another that shares the model.
func TestDPoPReplayAcrossInstances(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withDPoP(nil))
	second := newTestEnv(t, withDPoP(nil), withModel(func(*memorymodel.Model) oauth2server.Model { return env.model }))
	k := newDPoPKey(t, "ES256")
	proof := k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{})
	requireOK(t, withDPoPType(env.dpopToken(clientCredentials, confID, confSecret, proof)))
	got := second.dpopToken(clientCredentials, confID, confSecret, proof)
	requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)
	assert.Equal(t, "The DPoP proof was used before.", got.body["error_description"])
}

// Require and Client.DPoPBoundAccessTokens refuse token requests
// without a proof; without Options.DPoP the header is ignored.
func TestDPoPRequired(t *testing.T) {
	t.Parallel()
	t.Run("nok, server-wide", func(t *testing.T) {
		env := newTestEnv(t, withDPoP(func(o *oauth2server.DPoPOptions) { o.Require = true }))
		got := env.confToken(clientCredentials)
		requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)
		assert.Equal(t, "A DPoP proof is required.", got.body["error_description"])
	})
	t.Run("nok, per client", func(t *testing.T) {
		env := newTestEnv(t, withDPoP(nil))
		require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: "bound",
			SecretHash: oauth2server.HashSecret(confSecret), Grants: []string{oauth2server.GrantClientCredentials},
			Scopes: []string{"read"}, DPoPBoundAccessTokens: true}))
		got := env.dpopToken(clientCredentials, "bound", confSecret)
		requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)
		requireOK(t, env.confToken(clientCredentials)) // other clients may still use bearer tokens
		k := newDPoPKey(t, "ES256")
		got = env.dpopToken(clientCredentials, "bound", confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
		assert.Equal(t, "DPoP", got.body["token_type"], got.raw)
	})
	t.Run("ok, DPoP off: the header is ignored", func(t *testing.T) {
		env := newTestEnv(t)
		k := newDPoPKey(t, "ES256")
		got := env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
		requireOK(t, got)
		assert.Empty(t, env.accessToken(str(got.body["access_token"])).DPoPJKT)
		m, err := env.srv.Metadata(oauth2server.Endpoints{Token: testIssuer + "/token"})
		require.NoError(t, err)
		assert.Empty(t, m.DPoPSigningAlgValuesSupported)
	})
	t.Run("nok, a client requiring DPoP on a server without it is a server fault", func(t *testing.T) {
		env := newTestEnv(t)
		require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: "bound",
			SecretHash: oauth2server.HashSecret(confSecret), Grants: []string{oauth2server.GrantClientCredentials},
			DPoPBoundAccessTokens: true}))
		got := env.dpopToken(clientCredentials, "bound", confSecret)
		requireError(t, got, http.StatusServiceUnavailable, "server_error", false)
	})
}

// JWT access tokens carry cnf.jkt; introspection returns cnf and
// token_type DPoP for JWT and opaque tokens alike.
func TestDPoPBindingVisible(t *testing.T) {
	t.Parallel()
	_, pemKey := genKey(t, "ES256")
	for name, opts := range map[string][]envOption{
		"opaque": {withDPoP(nil)},
		"JWT":    {withDPoP(nil), withJWT(oauth2server.SigningKey{PEM: pemKey})},
	} {
		t.Run(name, func(t *testing.T) {
			env := newTestEnv(t, opts...)
			k := newDPoPKey(t, "EdDSA")
			got := env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
			require.Equal(t, http.StatusOK, got.status, got.raw)
			at := str(got.body["access_token"])
			if name == "JWT" {
				_, claims := jwtParts(t, at)
				assert.Equal(t, map[string]any{"jkt": k.jkt}, claims["cnf"])
			}
			rec := env.introspect(at, "")
			require.Equal(t, http.StatusOK, rec.Code)
			body := decode(t, rec)
			assert.Equal(t, true, body["active"])
			assert.Equal(t, "DPoP", body["token_type"])
			assert.Equal(t, map[string]any{"jkt": k.jkt}, body["cnf"])
			tok, err := env.srv.ValidateAccessToken(context.Background(), at)
			require.NoError(t, err)
			assert.Equal(t, k.jkt, tok.DPoPJKT)

			bearer := env.confToken(clientCredentials)
			body = decode(t, env.introspect(str(bearer.body["access_token"]), ""))
			assert.Equal(t, "Bearer", body["token_type"])
			assert.NotContains(t, body, "cnf")
		})
	}
}

// with RequireNonce a proof without the server's nonce is answered
// use_dpop_nonce with a DPoP-Nonce header; the nonce works, rotates, and a
// stale or forged one is refused.
func TestDPoPNonce(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withDPoP(func(o *oauth2server.DPoPOptions) { o.RequireNonce = true }))
	k := newDPoPKey(t, "ES256")
	withNonce := func(n string) proofOpts {
		return proofOpts{claims: func(c jwt.MapClaims) { c["nonce"] = n }}
	}
	got := env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
	requireError(t, got, http.StatusBadRequest, "use_dpop_nonce", false)
	nonce := got.header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	assert.Len(t, got.header.Values("DPoP-Nonce"), 1)

	got = env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", withNonce(nonce)))
	require.Equal(t, http.StatusOK, got.status, got.raw)
	assert.Equal(t, nonce, got.header.Get("DPoP-Nonce"), "the current nonce rides on the 200")

	got = env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", withNonce(nonce+"x")))
	requireError(t, got, http.StatusBadRequest, "use_dpop_nonce", false)

	// One period on, the old nonce still works and a new one is handed
	// out; two periods on, it is stale.
	env.clock.Advance(oauth2server.DefaultDPoPNonceLifetime)
	got = env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", withNonce(nonce)))
	require.Equal(t, http.StatusOK, got.status, got.raw)
	fresh := got.header.Get("DPoP-Nonce")
	assert.NotEqual(t, nonce, fresh, "the nonce rotates")
	env.clock.Advance(oauth2server.DefaultDPoPNonceLifetime)
	got = env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", withNonce(nonce)))
	requireError(t, got, http.StatusBadRequest, "use_dpop_nonce", false)
	assert.NotEmpty(t, got.header.Get("DPoP-Nonce"))

	// A nonce of another key is refused.
	otherEnv := newTestEnv(t, withDPoP(func(o *oauth2server.DPoPOptions) { o.RequireNonce = true }))
	got = otherEnv.dpopToken(clientCredentials, confID, confSecret, k.proof(t, otherEnv.clock.Now(), http.MethodPost, tokenHTU, "", withNonce(nonce)))
	requireError(t, got, http.StatusBadRequest, "use_dpop_nonce", false)
}

// a public client's refresh token is bound to its DPoP key; a
// confidential client's is bound by its authentication.
func TestDPoPRefresh(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withDPoP(nil))
	k, other := newDPoPKey(t, "ES256"), newDPoPKey(t, "ES256")
	issue := func(clientID, secret string) string {
		code := &oauth2server.AuthorizationCode{Code: "code-" + clientID, RedirectURI: testRedirect, Scope: []string{"read"},
			ClientID: clientID, UserID: aliceID, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256",
			GrantID: "grant-" + clientID}
		env.saveCode(code)
		got := env.dpopToken(url.Values{"grant_type": {"authorization_code"}, "code": {code.Code},
			"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}}, clientID, secret,
			k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
		require.Equal(t, http.StatusOK, got.status, got.raw)
		assert.Equal(t, "DPoP", got.body["token_type"])
		rt := str(got.body["refresh_token"])
		assert.Equal(t, k.jkt, env.refreshToken(rt).DPoPJKT)
		return rt
	}
	refresh := func(clientID, secret, rt string, key *dpopKey) answer {
		var proofs []string
		if key != nil {
			proofs = append(proofs, key.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
		}
		return env.dpopToken(refreshParams(rt), clientID, secret, proofs...)
	}

	rt := issue(pubID, "")
	requireError(t, refresh(pubID, "", rt, other), http.StatusBadRequest, "invalid_dpop_proof", false)
	requireError(t, refresh(pubID, "", rt, nil), http.StatusBadRequest, "invalid_dpop_proof", false)
	got := refresh(pubID, "", rt, k)
	require.Equal(t, http.StatusOK, got.status, got.raw, "the refresh token was not spent by the refused attempts")
	assert.Equal(t, k.jkt, env.refreshToken(str(got.body["refresh_token"])).DPoPJKT)

	rt = issue(confID, confSecret)
	got = refresh(confID, confSecret, rt, other)
	require.Equal(t, http.StatusOK, got.status, got.raw)
	assert.Equal(t, other.jkt, env.accessToken(str(got.body["access_token"])).DPoPJKT, "bound to the new proof's key")
}

// dpop_jkt binds the code; the token request must prove that key,
// and a mismatch does not spend the code.
func TestDPoPAuthorizationCodeBinding(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withDPoP(nil))
	k, other := newDPoPKey(t, "ES256"), newDPoPKey(t, "ES256")
	q := pushParams()
	q.Set("client_id", confID)
	q.Set("dpop_jkt", k.jkt)
	ar, err := env.authorizeAt(q)
	require.NoError(t, err)
	assert.Equal(t, k.jkt, ar.DPoPJKT)
	res, err := env.approve(ar)
	require.NoError(t, err)
	code := res.Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
		"code_verifier": {oauth2server.RFC7636Verifier}}

	got := env.dpopToken(form, confID, confSecret)
	requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)
	got = env.dpopToken(form, confID, confSecret, other.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
	requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)
	got = env.dpopToken(form, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
	require.Equal(t, http.StatusOK, got.status, got.raw)
	assert.Equal(t, "DPoP", got.body["token_type"])

	q.Set("dpop_jkt", "not-a-thumbprint")
	_, err = env.authorizeAt(q)
	authorizeErr(t, err, "invalid_request", false)
}

// a DPoP proof at the PAR endpoint binds the code, and must agree
// with a dpop_jkt pushed beside it.
func TestDPoPAtPushedAuthorizationEndpoint(t *testing.T) {
	t.Parallel()
	const parHTU = "http://example.com/par"
	env := newTestEnv(t, withDPoP(nil))
	k, other := newDPoPKey(t, "ES256"), newDPoPKey(t, "ES256")
	pushWith := func(form url.Values, proof string) answer {
		req := tokenReq{path: "/par", body: form.Encode(), auth: basic(confID, confSecret)}.build()
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		return env.doRequest(req)
	}

	got := pushWith(pushParams(), k.proof(t, env.clock.Now(), http.MethodPost, parHTU, "", proofOpts{}))
	require.Equal(t, http.StatusCreated, got.status, got.raw)
	ar, err := env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {str(got.body["request_uri"])}})
	require.NoError(t, err)
	assert.Equal(t, k.jkt, ar.DPoPJKT, "the proof's key binds the code")

	form := pushParams()
	form.Set("dpop_jkt", other.jkt)
	got = pushWith(form, k.proof(t, env.clock.Now(), http.MethodPost, parHTU, "", proofOpts{}))
	requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)

	form.Set("dpop_jkt", k.jkt)
	got = pushWith(form, k.proof(t, env.clock.Now(), http.MethodPost, parHTU, "", proofOpts{}))
	require.Equal(t, http.StatusCreated, got.status, got.raw)

	got = pushWith(pushParams(), k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
	requireError(t, got, http.StatusBadRequest, "invalid_dpop_proof", false)
}

// metadata lists the accepted algorithms; New refuses symmetric
// and unknown ones and out-of-range durations.
func TestDPoPOptions(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withDPoP(func(o *oauth2server.DPoPOptions) { o.Algorithms = []string{"ES256", "PS256"} }))
	m, err := env.srv.Metadata(oauth2server.Endpoints{Token: testIssuer + "/token"})
	require.NoError(t, err)
	assert.Equal(t, []string{"ES256", "PS256"}, m.DPoPSigningAlgValuesSupported)
	env = newTestEnv(t, withDPoP(nil))
	assert.Equal(t, oauth2server.DefaultDPoPAlgorithms, env.srv.DPoPAlgorithms())

	for name, tc := range map[string]struct {
		opts oauth2server.DPoPOptions
		want string
	}{
		"nok, HS256":             {oauth2server.DPoPOptions{Algorithms: []string{"HS256"}}, "asymmetric"},
		"nok, none":              {oauth2server.DPoPOptions{Algorithms: []string{"none"}}, "asymmetric"},
		"nok, long proof age":    {oauth2server.DPoPOptions{ProofMaxAge: 6 * time.Minute}, "ProofMaxAge"},
		"nok, long skew":         {oauth2server.DPoPOptions{ClockSkew: 2 * time.Minute}, "ClockSkew"},
		"nok, negative lifetime": {oauth2server.DPoPOptions{NonceLifetime: -time.Second}, "negative"},
		"nok, short nonce key":   {oauth2server.DPoPOptions{NonceKey: []byte("short")}, "NonceKey"},
	} {
		t.Run(name, func(t *testing.T) {
			o := tc.opts
			_, err := oauth2server.New(memorymodel.New(), oauth2server.Options{DPoP: &o})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
