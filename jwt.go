package oauth2server

import (
	"context"
	"encoding/json"
	stderrors "errors"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// jwtType is the "typ" header of JWT access tokens (RFC 9068 §2.1).
const jwtType = "at+jwt"

var (
	errTokenInvalid = oerrors.ErrInvalidToken.WithDescription("The access token is invalid.")
	errTokenExpired = oerrors.ErrInvalidToken.WithDescription("The access token has expired.")
	errTokenRevoked = oerrors.ErrInvalidToken.WithDescription("The access token was revoked.")
	errTokenUnknown = oerrors.ErrInvalidToken.WithDescription("The access token is unknown.")
	errTokenMissing = oerrors.ErrInvalidToken.WithDescription("The access token is missing.")
)

// accessTokenClaims are the claims of a JWT access token (RFC 9068 §2.2).
// Times are whole seconds, written by this package rather than through the
// jwt package's global precision setting.
type accessTokenClaims struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience jwt.ClaimStrings `json:"aud"`
	Expiry   int64            `json:"exp"`
	IssuedAt int64            `json:"iat"`
	ID       string           `json:"jti"`
	ClientID string           `json:"client_id"`
	Scope    string           `json:"scope,omitempty"`
	Act      *Actor           `json:"act,omitempty"`
	// Cnf binds a DPoP-bound token to its key (RFC 9449 §6.1).
	Cnf *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the cnf claim of a sender-constrained token (RFC 7800
// §3.1) and of its introspection (RFC 9449 §6.2).
type Confirmation struct {
	// JKT is the JWK SHA-256 thumbprint of the DPoP key (RFC 9449 §6.1).
	JKT string `json:"jkt"`
}

func unixDate(sec int64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0))
}

// The jwt.Claims methods, used by the parser's validation.
func (c *accessTokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return unixDate(c.Expiry), nil
}
func (c *accessTokenClaims) GetIssuedAt() (*jwt.NumericDate, error)  { return unixDate(c.IssuedAt), nil }
func (c *accessTokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *accessTokenClaims) GetIssuer() (string, error)              { return c.Issuer, nil }
func (c *accessTokenClaims) GetSubject() (string, error)             { return c.Subject, nil }
func (c *accessTokenClaims) GetAudience() (jwt.ClaimStrings, error)  { return c.Audience, nil }

// setAccessToken is the one seam where an access token string is made:
// a signed JWT (with Token.ID as its jti) when the server issues JWTs, the
// generator's or a random opaque string otherwise.
func (s *Server) setAccessToken(ctx context.Context, client *Client, user *User, tok *Token) error {
	if !s.jwtAccess {
		t, err := s.newAccessToken(ctx, client, user, tok.Scope)
		tok.AccessToken = t
		return err
	}
	id, err := s.newID()
	if err != nil {
		return err
	}
	tok.ID = id
	// The record's expiry is the JWT's, to the second, so that introspection
	// of the record and of the JWT agree.
	tok.IssuedAt = tok.IssuedAt.Truncate(time.Second)
	tok.AccessTokenExpiresAt = tok.AccessTokenExpiresAt.Truncate(time.Second)
	tok.AccessToken, err = s.signAccessToken(tok)
	return err
}

// signAccessToken signs tok as an RFC 9068 JWT with the active key.
//
// The JWS is assembled here rather than by jwt.Token.SignedString, which
// marshals a header map and the claims by reflection on every call: the
// header of a key never changes, so its encoded form is made once by
// setupJWT, and the claims have a fixed shape written with the same
// escaping as encoding/json. Only the signature is computed by the jwt
// package, with the key's SigningMethod looked up once.
func (s *Server) signAccessToken(tok *Token) (string, error) {
	k := s.jwt.active
	sub := tok.UserID
	if sub == "" {
		// RFC 9068 §2.2: without a resource owner, sub is the client.
		sub = tok.ClientID
	}
	aud := s.opts.Audience
	switch {
	case len(tok.Resources) > 0:
		aud = "" // the resources (RFC 8707, R-184)
	case tok.Audience != "":
		aud = tok.Audience // the target of a token exchange
	}
	var stack [512]byte
	claims, err := appendAccessTokenClaims(stack[:0], s.opts.Issuer, sub, aud, tok)
	if err != nil {
		return "", storeError("encode act claim", err)
	}

	jws, err := k.signJWS(k.header, claims)
	if err != nil {
		return "", storeError("sign access token", err)
	}
	return jws, nil
}

// appendAccessTokenClaims appends the JSON claims of tok (RFC 9068 §2.2),
// the members of accessTokenClaims in their order, and the act claim of a
// delegation (RFC 8693 §4.1). aud is the token's one audience, the default
// or an exchange's target, as an array of one; with aud "", the token's
// resources (RFC 8707, R-184): a string for one, an array for several.
func appendAccessTokenClaims(b []byte, iss, sub, aud string, tok *Token) ([]byte, error) {
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, iss)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, sub)
	switch {
	case aud != "":
		b = append(b, `,"aud":[`...)
		b = appendJSONString(b, aud)
		b = append(b, ']')
	case len(tok.Resources) == 1:
		b = append(b, `,"aud":`...)
		b = appendJSONString(b, tok.Resources[0])
	default:
		b = append(b, `,"aud":[`...)
		for i, r := range tok.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, r)
		}
		b = append(b, ']')
	}
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, tok.AccessTokenExpiresAt.Unix(), 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, tok.IssuedAt.Unix(), 10)
	b = append(b, `,"jti":`...)
	b = appendJSONString(b, tok.ID)
	b = append(b, `,"client_id":`...)
	b = appendJSONString(b, tok.ClientID)
	if len(tok.Scope) > 0 {
		b = append(b, `,"scope":`...)
		b = appendJSONString(b, FormatScope(tok.Scope))
	}
	if tok.Actor != nil {
		act, err := json.Marshal(tok.Actor)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"act":`...)
		b = append(b, act...)
	}
	if tok.DPoPJKT != "" {
		b = append(b, `,"cnf":{"jkt":`...)
		b = appendJSONString(b, tok.DPoPJKT)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// looksLikeJWT reports whether raw has the three parts of a JWS compact
// serialization. Opaque tokens made by the default generator never do.
func looksLikeJWT(raw string) bool { return strings.Count(raw, ".") == 2 }

// parseJWTAccessToken checks signature, header and claims of a JWT access
// token issued by this server, with the given leeway; it does not consult
// the deny-list. Errors are fixed invalid_token errors; the jwt package's
// error is kept as the cause for logs.
func (s *Server) parseJWTAccessToken(raw string, leeway time.Duration) (*accessTokenClaims, error) {
	if len(raw) > maxAccessTokenBytes {
		// No header or claims are decoded for a token larger than any
		// this server signs (introspection and revocation come here too).
		return nil, errTokenUnknown
	}
	claims := &accessTokenClaims{}
	p := s.jwt.parsers[leeway]
	if p == nil {
		p = s.newJWTParser(leeway)
	}
	_, err := p.ParseWithClaims(raw, claims, s.jwtKeyFunc)
	switch {
	case err == nil:
	case stderrors.Is(err, jwt.ErrTokenExpired):
		return nil, errTokenExpired.WithCause(err)
	default:
		return nil, errTokenInvalid.WithCause(err)
	}
	if claims.ID == "" || claims.ClientID == "" || claims.Subject == "" || len(claims.Audience) == 0 {
		return nil, errTokenInvalid.WithCause(stderrors.New("jti, client_id, sub or aud missing"))
	}
	return claims, nil
}

// newJWTParser returns the parser of our JWT access tokens with leeway.
// setupJWT makes the ones in use once; a jwt.Parser is not changed by
// parsing, so one is shared by all requests.
func (s *Server) newJWTParser(leeway time.Duration) *jwt.Parser {
	return jwt.NewParser(
		// Pinned to the algorithms of our keys: never "none", never HMAC
		// with a public key as secret (RFC 9068 §4).
		jwt.WithValidMethods(s.jwt.algs),
		jwt.WithIssuer(s.opts.Issuer),
		// aud is checked by the caller: the default audience, or the
		// resource the token is verified for (RFC 8707); introspection
		// reports it.
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(s.opts.Now),
		jwt.WithStrictDecoding(),
	)
}

// jwtKeyFunc selects the verification key by kid and checks the header:
// typ must be at+jwt (RFC 9068 §4) and alg must be the key's own algorithm,
// so a key is never used with an algorithm it was not made for.
func (s *Server) jwtKeyFunc(t *jwt.Token) (any, error) {
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, jwtType) && !strings.EqualFold(typ, "application/"+jwtType) {
		return nil, stderrors.New("typ is not at+jwt")
	}
	kid, _ := t.Header["kid"].(string)
	k, ok := s.jwt.byKID[kid]
	if !ok {
		return nil, stderrors.New("unknown kid")
	}
	if t.Method.Alg() != k.alg {
		return nil, stderrors.New("alg does not match the key")
	}
	return k.public, nil
}

// claimsToken converts verified claims into a Token. An aud other than
// the default audience is the token's Resources, and when it is
// one value also its Audience (the target of a token exchange): a JWT
// does not say which of the two restricted it.
func claimsToken(raw string, c *accessTokenClaims, defaultAud string) (*Token, error) {
	scope, err := ParseScope(c.Scope)
	if err != nil {
		return nil, errTokenInvalid.WithCause(err)
	}
	userID := c.Subject
	if userID == c.ClientID {
		// No resource owner: sub is the client (RFC 9068 §2.2). Models keep
		// user and client identifiers disjoint (RFC 9068 §5).
		userID = ""
	}
	tok := &Token{
		ID:                   c.ID,
		AccessToken:          raw,
		AccessTokenExpiresAt: time.Unix(c.Expiry, 0),
		Scope:                scope,
		ClientID:             c.ClientID,
		UserID:               userID,
		IssuedAt:             time.Unix(c.IssuedAt, 0),
		Actor:                c.Act,
	}
	if c.Cnf != nil {
		tok.DPoPJKT = c.Cnf.JKT
	}
	if len(c.Audience) != 1 || c.Audience[0] != defaultAud {
		tok.Resources = c.Audience // a resource-restricted token
	}
	if len(c.Audience) == 1 && c.Audience[0] != defaultAud {
		tok.Audience = c.Audience[0]
	}
	return tok, nil
}

// verifyJWTAccessToken verifies a JWT access token as a resource server
// must (RFC 9068 §4): signature with one of our keys and the algorithm
// pinned, typ, exact iss, aud naming audience ("" for the default), exp
// and iat with [JWTOptions.Leeway], then the jti deny-list. The result has
// no GrantID and no refresh token.
func (s *Server) verifyJWTAccessToken(ctx context.Context, raw, audience string) (*Token, error) {
	if !s.jwtAccess {
		return nil, errTokenInvalid
	}
	c, err := s.parseJWTAccessToken(raw, s.opts.JWT.Leeway)
	if err != nil {
		return nil, err
	}
	if err := s.checkAudience(nil, c.Audience, audience); err != nil {
		return nil, err
	}
	revoked, err := s.jtis.IsJTIRevoked(ctx, c.ID)
	if err != nil {
		return nil, storeError("IsJTIRevoked", err)
	}
	if revoked {
		return nil, errTokenRevoked
	}
	return claimsToken(raw, c, s.opts.Audience)
}
