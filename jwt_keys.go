package oauth2server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWT signature algorithms oauth2server signs with. "none" and symmetric
// algorithms are never accepted (RFC 9068 §2.1, §4).
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

// minRSABits is the smallest RSA modulus accepted for signing keys (NIST
// SP 800-57: 2048 bits).
const minRSABits = 2048

// SigningKey is one key of [Options.SigningKeys].
//
// The key is PEM text (PEM) or a PEM file (File), exactly one of them:
// a private key (PKCS #8, PKCS #1 "RSA PRIVATE KEY", SEC 1 "EC PRIVATE KEY")
// for the active key, or a private or public key ("PUBLIC KEY", PKIX) for a
// previous key that only verifies. RSA keys (at least 2048 bits) sign with
// RS256, P-256 keys with ES256 and Ed25519 keys with EdDSA.
type SigningKey struct {
	// KeyID is the "kid" of the key. Optional. Default: the RFC 7638 JWK
	// thumbprint (SHA-256, base64url), which is stable across restarts.
	KeyID string
	// PEM is the PEM-encoded key.
	PEM string
	// File is the path of a PEM file, read once by [New].
	File string
	// Algorithm is the expected algorithm ("RS256", "ES256", "EdDSA").
	// Optional: the key type decides; when set, a key of another type is an
	// error.
	Algorithm string
	// Active marks the signing key. Exactly one key is active; a single key
	// is active without being marked.
	Active bool
}

// JSONWebKey is a public key of the JWK Set (RFC 7517), as served by
// [Server.JWKS]. Only public members exist in this type, so a private key
// cannot leak through it.
type JSONWebKey struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	// RSA members (RFC 7518 §6.3.1).
	N string `json:"n,omitempty"`
	E string `json:"e,omitempty"`
	// EC (RFC 7518 §6.2.1) and OKP (RFC 8037 §2) members.
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JSONWebKeySet is a JWK Set (RFC 7517 §5).
type JSONWebKeySet struct {
	Keys []JSONWebKey `json:"keys"`
}

// jwtKey is a parsed signing or verification key.
type jwtKey struct {
	kid    string
	alg    string
	public crypto.PublicKey
	signer crypto.Signer // nil for a verification-only key
	jwk    JSONWebKey
	// method signs with alg; header is the base64url JOSE header of the
	// key's tokens and sigLen the length of its signatures, for
	// signAccessToken.
	method jwt.SigningMethod
	header string
	sigLen int
	// idHeader is the encoded JOSE header of the key's ID tokens.
	idHeader string
}

// jwtKeys holds the keys of a Server that issues JWT access tokens.
type jwtKeys struct {
	active *jwtKey
	byKID  map[string]*jwtKey
	algs   []string // algorithms of all keys, for WithValidMethods
	jwks   JSONWebKeySet
	// parsers verify our tokens, by leeway: JWTOptions.Leeway for
	// ValidateAccessToken, 0 for introspection and revocation.
	parsers map[time.Duration]*jwt.Parser
}

// setupJWT validates the JWT options and parses the keys once.
// Defaults and bounds of [JWTOptions.Leeway].
const (
	DefaultJWTLeeway = 30 * time.Second
	MaxJWTLeeway     = 5 * time.Minute
)

func (s *Server) setupJWT() error {
	o := &s.opts
	if o.JWT == nil && o.OpenID == nil {
		if len(o.SigningKeys) > 0 || o.AllowGeneratedKeys || o.GeneratedKeyAlgorithm != "" {
			return errorf("SigningKeys, AllowGeneratedKeys and GeneratedKeyAlgorithm sign JWTs: set Options.JWT for JWT access tokens or Options.OpenID for ID tokens, or leave them empty")
		}
		return nil
	}
	if o.JWT == nil {
		return s.setupKeys(0)
	}
	// A copy: New never writes through the caller's pointer.
	jo := *o.JWT
	o.JWT = &jo
	if o.Issuer == "" {
		return errorf("JWT access tokens need Issuer (the \"iss\" claim, RFC 9068 §2.2)")
	}
	if o.Audience == "" {
		return errorf("JWT access tokens need Audience (the default \"aud\" claim, RFC 9068 §3)")
	}
	if s.jtis == nil {
		return errorf("JWT access tokens need RevokedJTIModel (RevokeJTI, IsJTIRevoked), so that they can be revoked")
	}
	switch {
	case jo.Leeway == 0:
		jo.Leeway = DefaultJWTLeeway
	case jo.Leeway < 0:
		jo.Leeway = 0
	case jo.Leeway > MaxJWTLeeway:
		return errorf("JWT.Leeway %s exceeds %s: a leeway is for clock skew, not for extending lifetimes", jo.Leeway, MaxJWTLeeway)
	}
	if err := s.setupKeys(jo.Leeway); err != nil {
		return err
	}
	s.jwtAccess = true
	return nil
}

// setupKeys parses Options.SigningKeys (or generates a key when allowed)
// for JWT access tokens and ID tokens, and makes the access token parsers
// with leeway.
func (s *Server) setupKeys(leeway time.Duration) error {
	o := &s.opts
	what := "JWT access tokens"
	if o.JWT == nil {
		what = "OpenID Connect ID tokens"
	}
	keys := o.SigningKeys
	if len(keys) == 0 {
		if !o.AllowGeneratedKeys {
			return errorf("%s need signing keys: set Options.SigningKeys to a PEM private key "+
				"(e.g. from `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072`), "+
				"or set AllowGeneratedKeys for development only", what)
		}
		k, err := generateKey(o.GeneratedKeyAlgorithm)
		if err != nil {
			return err
		}
		keys = []SigningKey{k}
		if o.OpenID != nil && !s.fapi && o.GeneratedKeyAlgorithm != "" && o.GeneratedKeyAlgorithm != AlgRS256 {
			// ID tokens are RS256 unless a client registered another
			// algorithm (OIDC Core §15.1, Registration §2).
			rk, err := generateKey(AlgRS256)
			if err != nil {
				return err
			}
			rk.Active = false
			keys = append(keys, rk)
		}
	}
	ks := &jwtKeys{byKID: make(map[string]*jwtKey, len(keys))}
	for i, sk := range keys {
		k, err := parseSigningKey(sk)
		if err != nil {
			return errorf("SigningKeys[%d]: %v", i, err)
		}
		if _, dup := ks.byKID[k.kid]; dup {
			return errorf("SigningKeys[%d]: kid %q is used twice", i, k.kid)
		}
		ks.byKID[k.kid] = k
		if sk.Active || len(keys) == 1 {
			if ks.active != nil {
				return errorf("SigningKeys: more than one key is Active; exactly one signs")
			}
			if k.signer == nil {
				return errorf("SigningKeys[%d]: the active key must be a private key", i)
			}
			ks.active = k
		}
		if !slices.Contains(ks.algs, k.alg) {
			ks.algs = append(ks.algs, k.alg)
		}
		ks.jwks.Keys = append(ks.jwks.Keys, k.jwk)
	}
	if ks.active == nil {
		return errorf("SigningKeys: no key is Active; mark exactly one")
	}
	s.jwt = ks
	ks.parsers = map[time.Duration]*jwt.Parser{0: s.newJWTParser(0), leeway: s.newJWTParser(leeway)}
	return s.setupIDTokenKeys()
}

// generateKey makes an in-memory key for AllowGeneratedKeys.
func generateKey(alg string) (SigningKey, error) {
	var priv any
	var err error
	switch alg {
	case "", AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 3072)
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return SigningKey{}, errorf("GeneratedKeyAlgorithm %q is not one of RS256, ES256, EdDSA", alg)
	}
	if err != nil {
		return SigningKey{}, errorf("generate signing key: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, errorf("generate signing key: %v", err)
	}
	return SigningKey{PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), Active: true}, nil
}

// parseSigningKey reads one configured key.
func parseSigningKey(sk SigningKey) (*jwtKey, error) {
	data := []byte(sk.PEM)
	switch {
	case sk.PEM != "" && sk.File != "":
		return nil, errorf("set PEM or File, not both")
	case sk.File != "":
		b, err := os.ReadFile(sk.File)
		if err != nil {
			return nil, errorf("read key file: %v", err)
		}
		data = b
	case sk.PEM == "":
		return nil, errorf("PEM or File is required")
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errorf("no PEM block found")
	}
	if b, _ := pem.Decode(rest); b != nil {
		return nil, errorf("more than one PEM block; give one key per SigningKey")
	}
	var parsed any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "PUBLIC KEY":
		parsed, err = x509.ParsePKIXPublicKey(block.Bytes)
	default:
		return nil, errorf("unsupported PEM block %q (want PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY or PUBLIC KEY)", block.Type)
	}
	if err != nil {
		return nil, errorf("parse %s: %v", block.Type, err)
	}
	k := &jwtKey{}
	switch key := parsed.(type) {
	case *rsa.PrivateKey:
		k.signer, k.public = key, &key.PublicKey
	case *ecdsa.PrivateKey:
		k.signer, k.public = key, &key.PublicKey
	case ed25519.PrivateKey:
		k.signer, k.public = key, key.Public()
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		k.public = key
	default:
		return nil, errorf("unsupported key type %T (want RSA, P-256 or Ed25519)", parsed)
	}
	if err := k.describe(); err != nil {
		return nil, err
	}
	if sk.Algorithm != "" && sk.Algorithm != k.alg {
		return nil, errorf("Algorithm %q does not match the key, which signs with %s", sk.Algorithm, k.alg)
	}
	k.kid = sk.KeyID
	if k.kid == "" {
		k.kid = thumbprint(k.jwk)
	}
	k.jwk.Kid = k.kid
	if err := k.prepareSigning(); err != nil {
		return nil, err
	}
	return k, nil
}

// describe sets the algorithm and the public JWK of k.
func (k *jwtKey) describe() error {
	b64 := base64.RawURLEncoding.EncodeToString
	switch pub := k.public.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return errorf("RSA key has %d bits; at least %d are required", pub.N.BitLen(), minRSABits)
		}
		k.alg = AlgRS256
		k.jwk = JSONWebKey{Kty: "RSA", N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return errorf("EC key is on %s; only P-256 (ES256) is supported", pub.Curve.Params().Name)
		}
		raw, err := pub.Bytes() // uncompressed point 0x04 || X || Y
		if err != nil {
			return errorf("EC key: %v", err)
		}
		k.alg = AlgES256
		k.jwk = JSONWebKey{Kty: "EC", Crv: "P-256", X: b64(raw[1:33]), Y: b64(raw[33:])}
	case ed25519.PublicKey:
		k.alg = AlgEdDSA
		k.jwk = JSONWebKey{Kty: "OKP", Crv: "Ed25519", X: b64(pub)}
	}
	k.jwk.Use = "sig"
	k.jwk.Alg = k.alg
	return nil
}

// prepareSigning sets what signAccessToken needs: the signing method, the
// encoded JOSE header (alg, kid, typ; RFC 9068 §2.1) and the signature
// length.
func (k *jwtKey) prepareSigning() error {
	k.method = jwt.GetSigningMethod(k.alg)
	if k.method == nil {
		return errorf("no signing method for %s", k.alg)
	}
	// A map marshals with sorted keys, as jwt.Token.SigningString did.
	h, err := json.Marshal(map[string]string{"alg": k.alg, "kid": k.kid, "typ": jwtType})
	if err != nil {
		return errorf("encode JOSE header: %v", err)
	}
	k.header = base64.RawURLEncoding.EncodeToString(h)
	switch pub := k.public.(type) {
	case *rsa.PublicKey:
		k.sigLen = pub.Size()
	default: // P-256 (r || s, RFC 7518 §3.4) and Ed25519 signatures
		k.sigLen = 64
	}
	return nil
}

// thumbprint is the RFC 7638 JWK thumbprint: SHA-256 of the required
// members in lexicographic order, without whitespace.
func thumbprint(j JSONWebKey) string {
	var members any
	switch j.Kty {
	case "RSA":
		members = struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{j.E, j.Kty, j.N}
	case "EC":
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{j.Crv, j.Kty, j.X, j.Y}
	default: // OKP
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
		}{j.Crv, j.Kty, j.X}
	}
	// The members are base64url and fixed names: json.Marshal of a struct
	// keeps field order and escapes nothing here.
	b, _ := json.Marshal(members)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// JWKS returns the public keys that verify this Server's JWTs (access
// tokens and ID tokens): the active key, every other key still configured
// (RFC 8414 §2 "jwks_uri"). It returns nil when the Server signs nothing
// (opaque access tokens and no OpenID Connect).
func (s *Server) JWKS() *JSONWebKeySet {
	if s.jwt == nil {
		return nil
	}
	set := &JSONWebKeySet{Keys: make([]JSONWebKey, len(s.jwt.jwks.Keys))}
	copy(set.Keys, s.jwt.jwks.Keys)
	return set
}

// IssuesJWT reports whether access tokens are JWTs (RFC 9068).
func (s *Server) IssuesJWT() bool { return s.jwtAccess }

// PublishesJWKS reports whether the Server signs JWTs, access tokens or ID
// tokens, and so needs its JWKS endpoint mounted.
func (s *Server) PublishesJWKS() bool { return s.jwt != nil }

// signJWS returns the compact JWS of claims under the encoded header,
// signed with k. Every token this package signs goes through it, and it
// is on the path of every JWT access token and ID token: the token is
// written once, into a strings.Builder sized for all of it, whose String
// costs no copy. An Ed25519 key signs the input with crypto/ed25519
// directly, from a pooled buffer: golang-jwt's Sign takes a string, which
// it copies into a new []byte, and copies the public key to check the
// key's type, which cost more than the claims themselves (see
// bench/oidc_test.go, where an ID token may add at most 10 % to its raw
// signature).
func (k *jwtKey) signJWS(header string, claims []byte) (string, error) {
	enc := base64.RawURLEncoding
	var t strings.Builder
	t.Grow(len(header) + 1 + enc.EncodedLen(len(claims)) + 1 + enc.EncodedLen(k.sigLen))
	var sig []byte
	if priv, ok := k.signer.(ed25519.PrivateKey); ok {
		p := signingInputs.Get().(*[]byte)
		in := append((*p)[:0], header...)
		in = append(in, '.')
		in = enc.AppendEncode(in, claims)
		sig = ed25519.Sign(priv, in)
		t.Write(in)
		if cap(in) <= maxPooledSigningInput {
			*p = in[:0]
			signingInputs.Put(p)
		}
	} else {
		t.WriteString(header)
		t.WriteByte('.')
		var stack [1024]byte
		t.Write(enc.AppendEncode(stack[:0], claims))
		var err error
		if sig, err = k.method.Sign(t.String(), k.signer); err != nil {
			return "", err
		}
	}
	t.WriteByte('.')
	var stack [128]byte // the longest signature, RS512 with 4096 bits, is 683 characters; append grows
	t.Write(enc.AppendEncode(stack[:0], sig))
	return t.String(), nil
}

// signingInputs are the buffers of signJWS's Ed25519 signing inputs.
var signingInputs = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// maxPooledSigningInput is the largest buffer signingInputs keeps, so that
// one huge token does not pin its buffer for the life of the process.
const maxPooledSigningInput = 16 << 10
