package mongomodel

import (
	"bytes"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/echo-oauth2/oauth2server"
)

// noRefresh prefixes the refresh field of a token without refresh token.
// The unique index on refresh needs a distinct value per document (a
// partial or sparse index would avoid it, but FerretDB rejects the one and
// ignores the other). A digest is base64url and never contains ':', so no
// presented refresh token can match such a value.
const noRefresh = "none:"

// decode decodes raw into v, with embedded documents of Extra as
// map[string]any rather than the driver's default bson.D, so that Extra
// comes back in the shape it was saved in (and marshals to the same JSON).
func decode(raw bson.Raw, v any) error {
	dec := bson.NewDecoder(bson.NewDocumentReader(bytes.NewReader(raw)))
	dec.DefaultDocumentMap()
	return dec.Decode(v)
}

type clientDoc struct {
	ID                      string         `bson:"_id"`
	SecretHash              string         `bson:"secretHash,omitempty"`
	RedirectURIs            []string       `bson:"redirectUris,omitempty"`
	Grants                  []string       `bson:"grants,omitempty"`
	Scopes                  []string       `bson:"scopes,omitempty"`
	AccessTokenLifetime     time.Duration  `bson:"accessTokenLifetime,omitempty"`
	RefreshTokenLifetime    time.Duration  `bson:"refreshTokenLifetime,omitempty"`
	TokenEndpointAuthMethod string         `bson:"tokenEndpointAuthMethod,omitempty"`
	Introspect              bool           `bson:"introspect,omitempty"`
	PostLogoutRedirectURIs  []string       `bson:"postLogoutRedirectUris,omitempty"`
	SubjectType             string         `bson:"subjectType,omitempty"`
	SectorIdentifier        string         `bson:"sectorIdentifier,omitempty"`
	IDTokenAlg              string         `bson:"idTokenSignedResponseAlg,omitempty"`
	JWKS                    string         `bson:"jwks,omitempty"`
	JWKSURI                 string         `bson:"jwksUri,omitempty"`
	AuthSigningAlg          string         `bson:"tokenEndpointAuthSigningAlg,omitempty"`
	RequirePAR              bool           `bson:"requirePushedAuthorizationRequests,omitempty"`
	DPoPBound               bool           `bson:"dpopBoundAccessTokens,omitempty"`
	Extra                   map[string]any `bson:"extra,omitempty"`
	// User is the username set with Model.SetClientUser, and ClientUser
	// the copy of that user SetClientUser stored beside it, so that
	// client_credentials needs no read of users. A document with User but
	// without ClientUser (written by an earlier version, or naming a user
	// that did not exist yet) is resolved through users.
	User       string         `bson:"user,omitempty"`
	ClientUser *clientUserDoc `bson:"clientUser,omitempty"`
}

// clientUserDoc is the user a client acts for, as stored in the client's
// document: the user document without its password hash.
type clientUserDoc struct {
	ID       string         `bson:"id"`
	Username string         `bson:"username"`
	Extra    map[string]any `bson:"extra,omitempty"`
}

func (d *clientUserDoc) user() *oauth2server.User {
	return &oauth2server.User{ID: d.ID, Username: d.Username, Extra: d.Extra}
}

func clientToDoc(c *oauth2server.Client) clientDoc {
	return clientDoc{
		ID:                      c.ID,
		SecretHash:              c.SecretHash,
		RedirectURIs:            c.RedirectURIs,
		Grants:                  c.Grants,
		Scopes:                  c.Scopes,
		AccessTokenLifetime:     c.AccessTokenLifetime,
		RefreshTokenLifetime:    c.RefreshTokenLifetime,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		Introspect:              c.Introspect,
		PostLogoutRedirectURIs:  c.PostLogoutRedirectURIs,
		SubjectType:             c.SubjectType,
		SectorIdentifier:        c.SectorIdentifier,
		IDTokenAlg:              c.IDTokenSignedResponseAlg,
		JWKS:                    c.JWKS,
		JWKSURI:                 c.JWKSURI,
		AuthSigningAlg:          c.TokenEndpointAuthSigningAlg,
		RequirePAR:              c.RequirePushedAuthorizationRequests,
		DPoPBound:               c.DPoPBoundAccessTokens,
		Extra:                   c.Extra,
	}
}

func (d *clientDoc) client() *oauth2server.Client {
	c := &oauth2server.Client{
		ID:                          d.ID,
		SecretHash:                  d.SecretHash,
		RedirectURIs:                d.RedirectURIs,
		Grants:                      d.Grants,
		Scopes:                      d.Scopes,
		AccessTokenLifetime:         d.AccessTokenLifetime,
		RefreshTokenLifetime:        d.RefreshTokenLifetime,
		TokenEndpointAuthMethod:     d.TokenEndpointAuthMethod,
		Introspect:                  d.Introspect,
		PostLogoutRedirectURIs:      d.PostLogoutRedirectURIs,
		SubjectType:                 d.SubjectType,
		SectorIdentifier:            d.SectorIdentifier,
		IDTokenSignedResponseAlg:    d.IDTokenAlg,
		Extra:                       d.Extra,
		JWKS:                        d.JWKS,
		JWKSURI:                     d.JWKSURI,
		TokenEndpointAuthSigningAlg: d.AuthSigningAlg,
	}
	c.RequirePushedAuthorizationRequests = d.RequirePAR
	c.DPoPBoundAccessTokens = d.DPoPBound
	return c
}

type userDoc struct {
	ID           string         `bson:"_id"`
	Username     string         `bson:"username"`
	PasswordHash string         `bson:"passwordHash"`
	Extra        map[string]any `bson:"extra,omitempty"`
	// Claims are the OpenID Connect claims (SetUserClaims).
	Claims map[string]any `bson:"claims,omitempty"`
}

func (d *userDoc) user() *oauth2server.User {
	return &oauth2server.User{ID: d.ID, Username: d.Username, Extra: d.Extra}
}

// tokenDoc is one Token. Neither token string is stored, only digests.
type tokenDoc struct {
	// ID is the digest of the access token ("none:" + the refresh digest
	// for a token without access token).
	ID string `bson:"_id"`
	// Refresh is the digest of the refresh token, or "none:" + ID.
	Refresh string `bson:"refresh"`
	// JTI is Token.ID, the jti of a JWT access token. It is what
	// RevokeToken and RevokeGrant put on the deny-list.
	JTI              string     `bson:"jti,omitempty"`
	AccessExpiresAt  time.Time  `bson:"accessExpiresAt"`
	RefreshExpiresAt *time.Time `bson:"refreshExpiresAt,omitempty"`
	Scope            []string   `bson:"scope,omitempty"`
	RefreshScope     []string   `bson:"refreshScope,omitempty"`
	ClientID         string     `bson:"clientId"`
	UserID           string     `bson:"userId,omitempty"`
	GrantID          string     `bson:"grant,omitempty"`
	IssuedAt         time.Time  `bson:"issuedAt"`
	Revoked          bool       `bson:"revoked"`
	OpenID           *openIDDoc `bson:"openid,omitempty"`
	// Audience and Actor are those of an exchanged token (RFC 8693).
	Audience string              `bson:"audience,omitempty"`
	Actor    *oauth2server.Actor `bson:"actor,omitempty"`
	JKT      string              `bson:"jkt,omitempty"` // DPoP binding
	// Resources are the token's resource indicators (RFC 8707).
	Resources        []string       `bson:"resources,omitempty"`
	RefreshResources []string       `bson:"refreshResources,omitempty"`
	Extra            map[string]any `bson:"extra,omitempty"`
	// Stub marks what a claim of an unknown token leaves (see
	// Model.claim): a lookup that finds one finds nothing.
	Stub bool `bson:"stub,omitempty"`
	// ExpiresAt is the later of the two expiry times, for the TTL index
	// and DeleteExpired: a revoked refresh token is kept until it expires
	// so that its reuse is detected.
	ExpiresAt time.Time `bson:"expiresAt"`
}

func tokenToDoc(t *oauth2server.Token) tokenDoc {
	d := tokenDoc{
		JTI:             t.ID,
		AccessExpiresAt: t.AccessTokenExpiresAt,
		Scope:           t.Scope,
		RefreshScope:    t.RefreshTokenScope,
		ClientID:        t.ClientID,
		UserID:          t.UserID,
		GrantID:         t.GrantID,
		IssuedAt:        t.IssuedAt,
		Revoked:         t.Revoked,
		OpenID:          openIDToDoc(t.OpenID),
		Audience:        t.Audience,
		Actor:           t.Actor,
		JKT:             t.DPoPJKT,
		Resources:       t.Resources,
		Extra:           t.Extra,
		ExpiresAt:       t.AccessTokenExpiresAt,
	}
	d.RefreshResources = t.RefreshTokenResources
	if !t.RefreshTokenExpiresAt.IsZero() {
		at := t.RefreshTokenExpiresAt
		d.RefreshExpiresAt = &at
		if at.After(d.ExpiresAt) {
			d.ExpiresAt = at
		}
	}
	switch {
	case t.AccessToken != "" && t.RefreshToken != "":
		d.ID, d.Refresh = oauth2server.TokenDigest(t.AccessToken), oauth2server.TokenDigest(t.RefreshToken)
	case t.AccessToken != "":
		d.ID = oauth2server.TokenDigest(t.AccessToken)
		d.Refresh = noRefresh + d.ID
	default:
		d.Refresh = oauth2server.TokenDigest(t.RefreshToken)
		d.ID = noRefresh + d.Refresh
	}
	return d
}

// token returns the Token with the one string it was looked up by.
func (d *tokenDoc) token(accessToken, refreshToken string) *oauth2server.Token {
	t := &oauth2server.Token{
		ID:                   d.JTI,
		AccessToken:          accessToken,
		AccessTokenExpiresAt: d.AccessExpiresAt,
		RefreshToken:         refreshToken,
		Scope:                d.Scope,
		RefreshTokenScope:    d.RefreshScope,
		ClientID:             d.ClientID,
		UserID:               d.UserID,
		GrantID:              d.GrantID,
		IssuedAt:             d.IssuedAt,
		Revoked:              d.Revoked,
		OpenID:               d.OpenID.session(),
		Audience:             d.Audience,
		Actor:                d.Actor,
		DPoPJKT:              d.JKT,
		Resources:            d.Resources,
		Extra:                d.Extra,
	}
	t.RefreshTokenResources = d.RefreshResources
	if d.RefreshExpiresAt != nil {
		t.RefreshTokenExpiresAt = *d.RefreshExpiresAt
	}
	return t
}

// codeDoc is one AuthorizationCode, keyed by the digest of the code.
type codeDoc struct {
	ID                  string         `bson:"_id"`
	ExpiresAt           time.Time      `bson:"expiresAt"`
	RedirectURI         string         `bson:"redirectUri,omitempty"`
	Scope               []string       `bson:"scope,omitempty"`
	ClientID            string         `bson:"clientId"`
	UserID              string         `bson:"userId,omitempty"`
	CodeChallenge       string         `bson:"codeChallenge,omitempty"`
	CodeChallengeMethod string         `bson:"codeChallengeMethod,omitempty"`
	GrantID             string         `bson:"grant,omitempty"`
	IssuedAt            time.Time      `bson:"issuedAt"`
	Revoked             bool           `bson:"revoked"`
	OpenID              *openIDDoc     `bson:"openid,omitempty"`
	JKT                 string         `bson:"jkt,omitempty"` // dpop_jkt
	Resources           []string       `bson:"resources,omitempty"`
	Extra               map[string]any `bson:"extra,omitempty"`
	// Stub marks what a claim of an unknown code leaves (see
	// Model.claim): a lookup that finds one finds nothing.
	Stub bool `bson:"stub,omitempty"`
}

func codeToDoc(c *oauth2server.AuthorizationCode) codeDoc {
	return codeDoc{
		ID:                  oauth2server.TokenDigest(c.Code),
		ExpiresAt:           c.ExpiresAt,
		RedirectURI:         c.RedirectURI,
		Scope:               c.Scope,
		ClientID:            c.ClientID,
		UserID:              c.UserID,
		CodeChallenge:       c.CodeChallenge,
		CodeChallengeMethod: c.CodeChallengeMethod,
		GrantID:             c.GrantID,
		IssuedAt:            c.IssuedAt,
		Revoked:             c.Revoked,
		OpenID:              openIDToDoc(c.OpenID),
		JKT:                 c.DPoPJKT,
		Resources:           c.Resources,
		Extra:               c.Extra,
	}
}

func (d *codeDoc) code(code string) *oauth2server.AuthorizationCode {
	return &oauth2server.AuthorizationCode{
		Code:                code,
		ExpiresAt:           d.ExpiresAt,
		RedirectURI:         d.RedirectURI,
		Scope:               d.Scope,
		ClientID:            d.ClientID,
		UserID:              d.UserID,
		CodeChallenge:       d.CodeChallenge,
		CodeChallengeMethod: d.CodeChallengeMethod,
		GrantID:             d.GrantID,
		IssuedAt:            d.IssuedAt,
		Revoked:             d.Revoked,
		OpenID:              d.OpenID.session(),
		DPoPJKT:             d.JKT,
		Resources:           d.Resources,
		Extra:               d.Extra,
	}
}

// openIDDoc is an OpenIDSession.
type openIDDoc struct {
	Nonce    string    `bson:"nonce,omitempty"`
	AuthTime time.Time `bson:"authTime,omitempty"`
	ACR      string    `bson:"acr,omitempty"`
	AMR      []string  `bson:"amr,omitempty"`
	Claims   string    `bson:"claims,omitempty"`
}

func openIDToDoc(o *oauth2server.OpenIDSession) *openIDDoc {
	if o == nil {
		return nil
	}
	return &openIDDoc{Nonce: o.Nonce, AuthTime: o.AuthTime, ACR: o.ACR, AMR: o.AMR, Claims: o.Claims}
}

func (d *openIDDoc) session() *oauth2server.OpenIDSession {
	if d == nil {
		return nil
	}
	return &oauth2server.OpenIDSession{Nonce: d.Nonce, AuthTime: d.AuthTime, ACR: d.ACR, AMR: d.AMR, Claims: d.Claims}
}

// grantDoc is the tombstone of a revoked grant family.
type grantDoc struct {
	ID        string    `bson:"_id"`
	RevokedAt time.Time `bson:"revokedAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// familyPrefix prefixes the _id of a family document in the tokens
// collection: "f:" + the grant id. A digest never contains ':', so no token
// lookup finds one.
const familyPrefix = "f:"

// familyDoc is the document of a grant family in the tokens collection,
// inserted with the family's first token or, earlier, by RevokeGrant (see
// Model.saveInFamily). Its refresh is its _id: the unique index on refresh
// needs a distinct value.
type familyDoc struct {
	ID        string    `bson:"_id"`
	Refresh   string    `bson:"refresh"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// codeClaimPrefix prefixes the _id of the claim of an authorization code
// in the tokens collection: "c:" + the code's digest (see
// Model.RedeemAuthorizationCode).
const codeClaimPrefix = "c:"

// codeClaimDoc is the claim of an authorization code in the tokens
// collection. Its refresh is its _id, for the unique index on refresh.
// It carries the code's client and user so that the query of ListGrants
// finds it, and is revoked so that nothing counts it as a live token.
type codeClaimDoc struct {
	ID        string    `bson:"_id"`
	Refresh   string    `bson:"refresh"`
	ClientID  string    `bson:"clientId,omitempty"`
	UserID    string    `bson:"userId,omitempty"`
	Revoked   bool      `bson:"revoked"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// stubPrefix prefixes the refresh value of a token stub (see Model.claim).
const stubPrefix = "stub:"

// claimDoc records that one call won the single use of a code or token (in
// the item's collection, written by Model.claim) or a device request's
// redemption (in the claims collection).
type claimDoc struct {
	ID        string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// jtiDoc is one entry of the deny-list of JWT access tokens.
type jtiDoc struct {
	ID        string    `bson:"_id"` // the jti
	ExpiresAt time.Time `bson:"expiresAt"`
}

// deviceDoc is one device authorization request, keyed by the digest of
// its device code. The decision and the redemption are not stored here
// but in the claims collection (see device.go), so Status and UserID are
// those the request was saved with.
type deviceDoc struct {
	ID           string         `bson:"_id"`
	User         string         `bson:"user"` // digest of the user code, unique
	ClientID     string         `bson:"clientId"`
	Scope        []string       `bson:"scope,omitempty"`
	IssuedAt     time.Time      `bson:"issuedAt"`
	ExpiresAt    time.Time      `bson:"expiresAt"`
	Interval     time.Duration  `bson:"interval"`
	LastPolledAt time.Time      `bson:"lastPolledAt"`
	Status       string         `bson:"status"`
	UserID       string         `bson:"userId,omitempty"`
	GrantID      string         `bson:"grant,omitempty"`
	Extra        map[string]any `bson:"extra,omitempty"`
}

func deviceToDoc(d *oauth2server.DeviceCode) deviceDoc {
	return deviceDoc{
		ID:           oauth2server.TokenDigest(d.DeviceCode),
		User:         oauth2server.TokenDigest(d.UserCode),
		ClientID:     d.ClientID,
		Scope:        d.Scope,
		IssuedAt:     d.IssuedAt,
		ExpiresAt:    d.ExpiresAt,
		Interval:     d.Interval,
		LastPolledAt: d.LastPolledAt,
		Status:       string(d.Status),
		UserID:       d.UserID,
		GrantID:      d.GrantID,
		Extra:        d.Extra,
	}
}

// device returns the request with its decision and redemption applied.
// The codes are left empty: only their digests are stored.
func (d *deviceDoc) device(dec *decisionDoc, redeemed bool) *oauth2server.DeviceCode {
	out := &oauth2server.DeviceCode{
		ClientID:     d.ClientID,
		Scope:        d.Scope,
		IssuedAt:     d.IssuedAt,
		ExpiresAt:    d.ExpiresAt,
		Interval:     d.Interval,
		LastPolledAt: d.LastPolledAt,
		Status:       oauth2server.DeviceCodeStatus(d.Status),
		UserID:       d.UserID,
		GrantID:      d.GrantID,
		Extra:        d.Extra,
	}
	if dec != nil {
		out.UserID = dec.UserID
		out.Status = oauth2server.DeviceCodeDenied
		if dec.Approved {
			out.Status = oauth2server.DeviceCodeApproved
			out.Scope = dec.Scope
		}
	}
	if redeemed {
		out.Status = oauth2server.DeviceCodeRedeemed
	}
	return out
}

// decisionDoc is the user's decision on a device request, stored in the
// claims collection with _id "d:" + the request's _id. Its unique insert
// is what makes the decision final.
type decisionDoc struct {
	ID        string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expiresAt"`
	Approved  bool      `bson:"approved"`
	UserID    string    `bson:"userId,omitempty"`
	Scope     []string  `bson:"scope,omitempty"`
}
