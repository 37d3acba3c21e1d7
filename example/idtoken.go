package main

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-oauth2/oauth2server"
)

// idTokenVerifier checks an ID token as the demo client, a relying party,
// must before it believes a word of it (OIDC Core §3.1.3.7): the signature
// with a key of the server's JWK Set, iss, aud, exp and iat, azp when
// present, the nonce of the request, and at_hash when present.
type idTokenVerifier struct {
	issuer   string
	clientID string
	// jwks returns the server's JWK Set, the document of its jwks_uri.
	jwks func() *oauth2server.JSONWebKeySet
	now  func() time.Time
}

// idTokenLeeway absorbs clock skew between the relying party and the
// server; the demo shares one clock, a real client would not.
const idTokenLeeway = 30 * time.Second

// idTokenAlg is the algorithm of the demo client's ID tokens: RS256, which
// every client gets unless it registered another (OIDC Core §15.1).
const idTokenAlg = oauth2server.AlgRS256

// verified is an ID token that passed every check.
type verified struct {
	claims jwt.MapClaims
	kid    string
	atHash bool // at_hash was present and matched
}

var (
	errIDTokenNonce  = errors.New("the nonce is not the one of the request")
	errIDTokenAzp    = errors.New("azp is not the client")
	errIDTokenAtHash = errors.New("at_hash does not match the access token")
)

// verify checks raw, an ID token of the token response that also carried
// accessToken, for the request that sent nonce.
func (v *idTokenVerifier) verify(raw, nonce, accessToken string) (*verified, error) {
	out := &verified{claims: jwt.MapClaims{}}
	p := jwt.NewParser(jwt.WithValidMethods([]string{idTokenAlg}), jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.clientID), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(idTokenLeeway), jwt.WithTimeFunc(v.now))
	_, err := p.ParseWithClaims(raw, out.claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		out.kid = kid
		return v.key(kid)
	})
	if err != nil {
		return nil, err
	}
	if azp, ok := out.claims["azp"]; ok && azp != v.clientID {
		return nil, errIDTokenAzp
	}
	got, _ := out.claims["nonce"].(string)
	if nonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, errIDTokenNonce
	}
	if h, ok := out.claims["at_hash"].(string); ok {
		// RS256: the left half of the SHA-256 of the token (§3.1.3.6).
		sum := sha256.Sum256([]byte(accessToken))
		if subtle.ConstantTimeCompare([]byte(h), []byte(base64.RawURLEncoding.EncodeToString(sum[:16]))) != 1 {
			return nil, errIDTokenAtHash
		}
		out.atHash = true
	}
	return out, nil
}

// key returns the RSA public key of the JWK Set with kid, for RS256.
func (v *idTokenVerifier) key(kid string) (*rsa.PublicKey, error) {
	set := v.jwks()
	if set == nil {
		return nil, errors.New("the server publishes no JWK Set")
	}
	for _, k := range set.Keys {
		if k.Kid != kid {
			continue
		}
		if k.Kty != "RSA" || (k.Alg != "" && k.Alg != idTokenAlg) || (k.Use != "" && k.Use != "sig") {
			return nil, fmt.Errorf("key %q is not an RS256 signing key", kid)
		}
		return rsaKey(k)
	}
	return nil, fmt.Errorf("no key %q in the JWK Set", kid)
}

// rsaKey decodes the RSA members of a JWK (RFC 7518 §6.3.1).
func rsaKey(k oauth2server.JSONWebKey) (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil || len(n) < 256 {
		return nil, fmt.Errorf("key %q: bad modulus", k.Kid)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("key %q: bad exponent", k.Kid)
	}
	exp := 0
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

// claimRow is one claim of a verified ID token, as the callback shows it.
type claimRow struct {
	Name, Value string
}

// claimRows lists claims sorted by name; times are shown as dates too.
func claimRows(claims map[string]any) []claimRow {
	rows := make([]claimRow, 0, len(claims))
	for name, v := range claims {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case float64:
			s = fmt.Sprint(int64(x))
			if name == "exp" || name == "iat" || name == "auth_time" {
				s += " (" + time.Unix(int64(x), 0).UTC().Format(time.RFC1123) + ")"
			}
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			s = strings.Join(parts, ", ")
		default:
			s = fmt.Sprint(x)
		}
		rows = append(rows, claimRow{Name: name, Value: s})
	}
	slices.SortFunc(rows, func(a, b claimRow) int { return strings.Compare(a.Name, b.Name) })
	return rows
}
