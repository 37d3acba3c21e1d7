package oauth2server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	stderrors "errors"
	"math/big"
	"strings"
)

// Bounds of the RSA keys of DPoP proofs: no weak keys, and no key so large
// that verifying it is a denial of service.
const (
	minDPoPRSABits = 2048
	maxDPoPRSABits = 8192
)

// jwkPrivateMembers are the members of private (or symmetric) JWKs (RFC
// 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). A proof's jwk must have none
// (RFC 9449 §4.3, R-171).
var jwkPrivateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// dpopCurve is the curve, coordinate size and crv name of an ES algorithm.
func dpopCurve(alg string) (elliptic.Curve, int, string, bool) {
	switch alg {
	case "ES256":
		return elliptic.P256(), 32, "P-256", true
	case "ES384":
		return elliptic.P384(), 48, "P-384", true
	case "ES512":
		return elliptic.P521(), 66, "P-521", true
	}
	return nil, 0, "", false
}

// publicJWK converts the jwk header of a DPoP proof into the public key
// that alg verifies with, and returns its RFC 7638 SHA-256 thumbprint. The
// key type must be the algorithm's own (EC with its curve for ES*, RSA for
// RS* and PS*, OKP Ed25519 for EdDSA): a key is never used with an
// algorithm it was not made for.
func publicJWK(jwk map[string]any, alg string) (crypto.PublicKey, string, error) {
	for _, m := range jwkPrivateMembers {
		if _, ok := jwk[m]; ok {
			return nil, "", stderrors.New("the jwk holds private key material")
		}
	}
	kty, _ := jwk["kty"].(string)
	switch {
	case kty == "EC":
		curve, size, crv, ok := dpopCurve(alg)
		if !ok || jwk["crv"] != crv {
			return nil, "", errDPoPUnsupportedK
		}
		x, okx := b64Member(jwk, "x")
		y, oky := b64Member(jwk, "y")
		if !okx || !oky || len(x) != size || len(y) != size {
			return nil, "", errDPoPUnsupportedK
		}
		point := make([]byte, 0, 1+2*size)
		point = append(append(append(point, 4), x...), y...)
		key, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, "", errDPoPUnsupportedK // not on the curve
		}
		return key, jwkThumbprint(`{"crv":"`, crv, `","kty":"EC","x":"`, b64(x), `","y":"`, b64(y), `"}`), nil
	case kty == "RSA" && (strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")):
		n, okn := b64Member(jwk, "n")
		e, oke := b64Member(jwk, "e")
		if !okn || !oke || len(e) == 0 || len(e) > 4 {
			return nil, "", errDPoPUnsupportedK
		}
		nn := new(big.Int).SetBytes(n)
		exp := 0
		for _, c := range e { // at most 4 bytes: no overflow
			exp = exp<<8 | int(c)
		}
		if bits := nn.BitLen(); bits < minDPoPRSABits || bits > maxDPoPRSABits || exp < 3 || exp%2 == 0 {
			return nil, "", errDPoPUnsupportedK
		}
		// The thumbprint takes the minimal big-endian encodings: the
		// members as sent when they have no leading zero, which is the
		// usual case and spares encoding the modulus again.
		ns, es := jwk["n"].(string), jwk["e"].(string)
		if n[0] == 0 {
			ns = b64(nn.Bytes())
		}
		if e[0] == 0 {
			es = b64(big.NewInt(int64(exp)).Bytes())
		}
		return &rsa.PublicKey{N: nn, E: exp}, jwkThumbprint(`{"e":"`, es, `","kty":"RSA","n":"`, ns, `"}`), nil
	case kty == "OKP" && alg == "EdDSA":
		x, ok := b64Member(jwk, "x")
		if !ok || jwk["crv"] != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return nil, "", errDPoPUnsupportedK
		}
		return ed25519.PublicKey(x), jwkThumbprint(`{"crv":"Ed25519","kty":"OKP","x":"`, b64(x), `"}`), nil
	}
	return nil, "", errDPoPUnsupportedK
}

// b64Member decodes the base64url member name of jwk, in its canonical
// form only (no padding, no stray bits), so that the member as sent is the
// encoding of what was decoded.
func b64Member(jwk map[string]any, name string) ([]byte, bool) {
	s, ok := jwk[name].(string)
	if !ok || s == "" {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// jwkThumbprint is the RFC 7638 thumbprint of the JWK whose canonical JSON
// (the required members, sorted, no whitespace; base64url values need no
// escaping) the parts make up: base64url SHA-256.
func jwkThumbprint(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var stack [512]byte
	b := stack[:0]
	if n > len(stack) {
		b = make([]byte, 0, n)
	}
	for _, p := range parts {
		b = append(b, p...)
	}
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
