package oauth2server

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"slices"
	"sync"
)

// The JWS algorithms of assertions (RFC 7518 §3.1, RFC 8037 §3.1). The
// asymmetric ones verify private_key_jwt and the assertions of trusted
// issuers; the HMAC ones only client_secret_jwt. "none" is never accepted.
var (
	asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", AlgEdDSA}
	hmacAlgs       = []string{"HS256", "HS384", "HS512"}
)

// Limits of the key sets the Server reads: a client has a handful
// of keys, each well under a kilobyte.
const (
	maxJWKSKeys     = 32
	maxRSAKeyBits   = 8192
	maxInlineCached = 4096 // parsed inline key sets kept, by their text
)

// verifyKey is one usable verification key of a JWK Set: its kid (may be
// empty) and its one algorithm (R-146: one key, one algorithm).
type verifyKey struct {
	kid string
	alg string
	key any // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// keySet is the usable keys of a JWK Set.
type keySet struct {
	keys []verifyKey
}

// find selects the key of an assertion: by kid when the header has one,
// else the only key of the algorithm. alg must be the key's own algorithm.
func (ks *keySet) find(kid, alg string) (*verifyKey, bool) {
	var found *verifyKey
	for i := range ks.keys {
		k := &ks.keys[i]
		if k.alg != alg || (kid != "" && k.kid != kid) {
			continue
		}
		if found != nil {
			// Two keys answer: a duplicate kid, or no kid and several keys
			// of the algorithm. Which one the signer meant is unknown.
			return nil, false
		}
		found = k
	}
	return found, found != nil
}

// hasKID reports whether a key with kid exists, whatever its algorithm.
func (ks *keySet) hasKID(kid string) bool {
	return slices.ContainsFunc(ks.keys, func(k verifyKey) bool { return k.kid == kid })
}

// jwkJSON is one member of a JWK Set as sent, public and private members
// alike, so that a key carrying private members is recognized and skipped.
type jwkJSON struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Kid    string   `json:"kid"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	// Private or symmetric key material: a set that publishes it is
	// misconfigured, and such a key is never used.
	D string `json:"d"`
	P string `json:"p"`
	Q string `json:"q"`
	K string `json:"k"`
}

// parseKeySet parses a JWK Set (RFC 7517 §5) into its usable verification
// keys. pinned, when not empty, is the one algorithm the keys may have
// (Client.TokenEndpointAuthSigningAlg, TrustedIssuer.Algorithm). Keys that
// cannot verify signatures of an allowed asymmetric algorithm are skipped:
// symmetric ("oct") keys and keys with private members,
// keys whose "use" is not "sig" or whose key_ops lack "verify", RSA keys
// under 2048 bits, unknown curves and types. A set that is not valid JSON
// is an error; a set without a usable key is an empty set.
func parseKeySet(data []byte, pinned string) (*keySet, error) {
	var set struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, errorf("JWK Set: %v", err)
	}
	if len(set.Keys) > maxJWKSKeys {
		return nil, errorf("JWK Set has %d keys; at most %d are read", len(set.Keys), maxJWKSKeys)
	}
	ks := &keySet{keys: make([]verifyKey, 0, len(set.Keys))}
	for i := range set.Keys {
		if k, ok := set.Keys[i].verifyKey(pinned); ok {
			ks.keys = append(ks.keys, k)
		}
	}
	return ks, nil
}

// verifyKey converts one JWK, reporting false when it is not usable.
func (j *jwkJSON) verifyKey(pinned string) (verifyKey, bool) {
	if j.D != "" || j.P != "" || j.Q != "" || j.K != "" {
		return verifyKey{}, false
	}
	if j.Use != "" && j.Use != "sig" {
		return verifyKey{}, false
	}
	if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
		return verifyKey{}, false
	}
	var (
		key  any
		algs []string // the algorithms this kind of key can verify
	)
	switch j.Kty {
	case "RSA":
		pub, ok := rsaKey(j.N, j.E)
		if !ok {
			return verifyKey{}, false
		}
		key, algs = pub, []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case "EC":
		pub, alg, ok := ecKey(j.Crv, j.X, j.Y)
		if !ok {
			return verifyKey{}, false
		}
		key, algs = pub, []string{alg}
	case "OKP":
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return verifyKey{}, false
		}
		key, algs = ed25519.PublicKey(x), []string{AlgEdDSA}
	default:
		return verifyKey{}, false
	}
	// The key's one algorithm: its "alg" member, else the pinned one, else
	// the first of its kind (RS256 for RSA).
	alg := algs[0]
	switch {
	case j.Alg != "":
		alg = j.Alg
	case pinned != "":
		alg = pinned
	}
	if !slices.Contains(algs, alg) || (pinned != "" && alg != pinned) {
		return verifyKey{}, false
	}
	return verifyKey{kid: j.Kid, alg: alg, key: key}, true
}

// rsaKey decodes an RSA public key (RFC 7518 §6.3.1) of 2048 to 8192 bits
// with an odd public exponent that fits an int.
func rsaKey(n, e string) (*rsa.PublicKey, bool) {
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(nb) == 0 || nb[0] == 0 {
		return nil, false
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil || len(eb) == 0 || len(eb) > 4 || eb[0] == 0 {
		return nil, false
	}
	exp := 0
	for _, b := range eb {
		exp = exp<<8 | int(b)
	}
	mod := new(big.Int).SetBytes(nb)
	if bits := mod.BitLen(); bits < minRSABits || bits > maxRSAKeyBits || exp < 3 || exp&1 == 0 {
		return nil, false
	}
	return &rsa.PublicKey{N: mod, E: exp}, true
}

// ecKey decodes an EC public key (RFC 7518 §6.2.1) on P-256, P-384 or
// P-521, checking that the point is on the curve, and returns the one
// algorithm of its curve.
func ecKey(crv, x, y string) (*ecdsa.PublicKey, string, bool) {
	var curve elliptic.Curve
	var alg string
	switch crv {
	case "P-256":
		curve, alg = elliptic.P256(), "ES256"
	case "P-384":
		curve, alg = elliptic.P384(), "ES384"
	case "P-521":
		curve, alg = elliptic.P521(), "ES512"
	default:
		return nil, "", false
	}
	size := (curve.Params().BitSize + 7) / 8
	xb, err1 := base64.RawURLEncoding.DecodeString(x)
	yb, err2 := base64.RawURLEncoding.DecodeString(y)
	if err1 != nil || err2 != nil || len(xb) != size || len(yb) != size {
		return nil, "", false
	}
	point := make([]byte, 0, 1+2*size)
	point = append(point, 4)
	point = append(point, xb...)
	point = append(point, yb...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, "", false
	}
	return pub, alg, true
}

// inlineKeySets caches parsed inline key sets (Client.JWKS,
// TrustedIssuer.JWKS) by their text and pinned algorithm, so that a
// client's keys are not decoded and checked on every request. The text is
// the key: a changed registration is a new entry. When full it starts
// over, which bounds its memory.
type inlineKeySets struct {
	mu   sync.Mutex
	sets map[inlineKey]*keySet
}

type inlineKey struct{ text, pinned string }

func (c *inlineKeySets) get(text, pinned string) (*keySet, error) {
	k := inlineKey{text, pinned}
	c.mu.Lock()
	ks := c.sets[k]
	c.mu.Unlock()
	if ks != nil {
		return ks, nil
	}
	ks, err := parseKeySet([]byte(text), pinned)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sets == nil || len(c.sets) >= maxInlineCached {
		c.sets = make(map[inlineKey]*keySet)
	}
	c.sets[k] = ks
	return ks, nil
}
