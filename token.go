package oauth2server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
)

var (
	errNoGrantType      = oerrors.ErrInvalidRequest.WithDescription("The grant_type parameter is missing.")
	errMultipleAuth     = oerrors.ErrInvalidRequest.WithDescription("The request uses more than one client authentication method.")
	errClientIDMismatch = oerrors.ErrInvalidRequest.WithDescription("The client_id parameter does not match the authenticated client.")
	errClientAuth       = oerrors.ErrInvalidClient.WithDescription("Client authentication failed.")
	errNoClient         = oerrors.ErrInvalidClient.WithDescription("Client authentication is required.")
	errGrantNotAllowed  = oerrors.ErrUnauthorizedClient.WithDescription("The client is not authorized to use this grant type.")
	errPublicNotAllowed = oerrors.ErrUnauthorizedClient.WithDescription("This grant type requires an authenticated (confidential) client.")
)

// TokenResponse is a successful access token response (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// IDToken is the ID token of an OpenID Connect grant (OIDC Core
	// §3.1.3.3).
	IDToken string `json:"id_token,omitempty"`
	// IssuedTokenType is the type of the token in AccessToken, answered to
	// a token exchange only (RFC 8693 §2.2.1).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	// Extra holds extended attributes ([Options.AllowExtendedTokenAttributes]).
	Extra map[string]any `json:"-"`
	// DPoPNonce is the DPoP nonce to send in a DPoP-Nonce header
	// ([Server.DPoPNonce]), "" when nonces are off. Packages handlers and
	// nethttp send it.
	DPoPNonce string `json:"-"`
	// Token is the issued token as saved in the model.
	Token *Token `json:"-"`
}

// reservedTokenMembers are the members of RFC 6749 §5.1; extended
// attributes never supply them, even when the response omits one (an
// extra "refresh_token" must not appear where none was issued).
var reservedTokenMembers = map[string]bool{
	"access_token": true, "token_type": true, "expires_in": true,
	"refresh_token": true, "scope": true, "issued_token_type": true,
}

// MarshalJSON writes the standard members and, without overriding any of
// them, the extended attributes.
func (t *TokenResponse) MarshalJSON() ([]byte, error) {
	// The members' names, quotes and numbers take under 100 bytes, and
	// id_token's 14 more; escaping is rare, and append grows the buffer if
	// it is needed.
	n := 100 + len(t.AccessToken) + len(t.RefreshToken) + len(t.Scope)
	if t.IDToken != "" {
		n += len(`,"id_token":""`) + len(t.IDToken)
	}
	return t.AppendJSON(make([]byte, 0, n))
}

// AppendJSON appends what MarshalJSON returns to b. The token endpoint
// handlers write the response from a pooled buffer through it, so that
// a response costs no allocation of its own.
func (t *TokenResponse) AppendJSON(b []byte) ([]byte, error) {
	start := len(b)
	b = t.appendJSON(b)
	if len(t.Extra) == 0 {
		return b, nil
	}
	m := make(map[string]any, len(t.Extra)+5)
	for k, v := range t.Extra {
		if !reservedTokenMembers[k] {
			m[k] = v
		}
	}
	var std map[string]any
	if err := json.Unmarshal(b[start:], &std); err != nil {
		return nil, err
	}
	for k, v := range std {
		m[k] = v
	}
	extended, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(b[:start], extended...), nil
}

// Token handles a token endpoint request (RFC 6749 §3.2): it parses the
// form body, authenticates the client, runs the grant and saves the issued
// token. Errors are *errors.Error, answered with [Server.PrepareError].
// Successful responses must be sent with the headers of [SetJSONHeaders]
// (Cache-Control: no-store and Pragma: no-cache, RFC 6749 §5.1). Packages
// handlers and nethttp do both.
func (s *Server) Token(r *http.Request) (*TokenResponse, error) {
	ctx := s.withAddress(r)
	p, err := s.readForm(r)
	if err != nil {
		return nil, err
	}
	gt := p["grant_type"]
	if gt == "" {
		return nil, errNoGrantType
	}
	grant, ok := s.grants[gt]
	if !ok {
		return nil, oerrors.ErrUnsupportedGrantType
	}
	// The scope is parsed, within its caps, before the client's secret is
	// hashed: cheap refusals first.
	scope, err := s.parseScope(p["scope"])
	if err != nil {
		return nil, err
	}
	client, err := s.clientForGrant(ctx, r, p, gt)
	if err != nil {
		return nil, err
	}
	// The DPoP proof is checked before the grant runs, so that a bad proof
	// spends no code or refresh token.
	proof, err := s.tokenEndpointProof(r, client)
	if err != nil {
		if s.recording() {
			s.recordDPoPFailure(ctx, client, err)
		}
		return nil, err
	}
	req := &TokenRequest{GrantType: gt, Client: client, Params: p, Scope: scope, HTTPRequest: r}
	if proof != nil {
		req.DPoPJKT = proof.JKT
	}
	// Token exchange reads resource and audience itself, as its target
	// (RFC 8693 §2.1, R-157).
	if gt != GrantTokenExchange {
		if req.Resources, err = parseResources(form.Values(p, form.Resource)); err != nil {
			return nil, err
		}
		if gt != GrantAuthorizationCode && gt != GrantRefreshToken {
			// The grants with a stored grant check the resources against
			// it; the others against the client, before anything is spent.
			if err := s.allowResources(ctx, client, req.Resources); err != nil {
				return nil, err
			}
		}
	}
	is, err := grant(ctx, req)
	if err != nil {
		if s.recording() {
			// A proof of another key than the code's or the refresh
			// token's.
			s.recordDPoPFailure(ctx, client, err)
		}
		return nil, err
	}
	is.jkt = req.DPoPJKT
	if !is.resourcesSet {
		is.resources = req.Resources
	}
	tok, err := s.issueToken(ctx, client, is)
	if err != nil {
		return nil, err
	}
	if s.recording() {
		s.Record(ctx, Event{Kind: EventTokenIssued, ClientID: client.ID, UserID: tok.UserID, GrantType: gt,
			Scope: tok.Scope, GrantID: tok.GrantID, TokenID: tokenID(tok)})
	}
	resp := s.tokenResponse(tok, is)
	if is.issuedType != "" {
		exchangeResponse(resp, tok, is.issuedType)
	}
	resp.IDToken = is.signedIDToken
	return resp, nil
}

// readForm opens the token, revocation, introspection and device
// authorization endpoints, in this order: TLS (R-02, R-05, with
// Options.RequireTLS), then the form body, POST only (405), of type
// application/x-www-form-urlencoded (415), at most Options.MaxBodyBytes
// (413), one value per parameter.
func (s *Server) readForm(r *http.Request) (form.Params, error) {
	if err := s.CheckTLS(r); err != nil {
		return nil, err
	}
	return form.ParseBody(nil, r, s.opts.MaxBodyBytes)
}

// clientForGrant authenticates the client of a request for grantType and
// checks that it may use the grant: registered for it, and confidential
// where the grant needs client authentication.
func (s *Server) clientForGrant(ctx context.Context, r *http.Request, p map[string]string, grantType string) (*Client, error) {
	client, authenticated, err := s.authenticateClient(ctx, r, p)
	if err != nil {
		return nil, err
	}
	if err := s.profileClient(client, authenticated); err != nil {
		return nil, err
	}
	if !client.HasGrant(grantType) {
		return nil, errGrantNotAllowed
	}
	if !authenticated && !s.publicOK[grantType] {
		return nil, errPublicNotAllowed
	}
	return client, nil
}

// authenticateClient authenticates the client of a token, revocation,
// introspection or device authorization request (RFC 6749 §2.3): HTTP
// Basic, body credentials or a JWT assertion (RFC 7523 §2.2), exactly one
// method, so several Authorization headers are invalid_request too. It reports whether the client was
// authenticated (confidential) or only identified (public).
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, p map[string]string) (client *Client, authenticated bool, err error) {
	var id, secret, method string
	defer func() {
		if err == errClientAuth {
			if s.recording() {
				s.Record(s.withAddress(r), Event{Kind: EventClientAuthFailed, ClientID: id, Reason: errClientAuth.Code})
			}
		}
	}()
	bodyID, bodySecret := p["client_id"], p["client_secret"]
	auth, ferr := form.Authorization(r.Header)
	if ferr != nil {
		return nil, false, ferr
	}
	if p["client_assertion"] != "" || p["client_assertion_type"] != "" {
		// An assertion is the request's one method.
		if auth != "" || bodySecret != "" {
			return nil, false, errMultipleAuth
		}
		client, err = s.authenticateAssertion(ctx, p)
		return client, err == nil, err
	}
	if auth != "" {
		if bodySecret != "" {
			return nil, false, errMultipleAuth
		}
		user, pass, ok := parseBasicAuth(auth)
		if !ok {
			return nil, false, errClientAuth
		}
		if bodyID != "" && bodyID != user {
			return nil, false, errClientIDMismatch
		}
		id, secret, method = user, pass, AuthMethodClientSecretBasic
	} else {
		if bodyID == "" {
			return nil, false, errNoClient
		}
		id, secret, method = bodyID, bodySecret, AuthMethodClientSecretPost
	}
	client, err = s.model.GetClient(ctx, id)
	if err != nil {
		return nil, false, storeError("GetClient", err)
	}
	if client == nil {
		// Spend the work of a secret check so that an unknown client and a
		// wrong secret take the same time.
		VerifySecret(dummySecretHash, secret)
		return nil, false, errClientAuth
	}
	if client.IsPublic() {
		if secret != "" {
			return nil, false, errClientAuth
		}
		return client, false, nil
	}
	if secret == "" {
		VerifySecret(dummySecretHash, secret) // same work as every other failure
		return nil, false, errClientAuth
	}
	if m := client.TokenEndpointAuthMethod; m != "" && m != method {
		VerifySecret(dummySecretHash, secret)
		return nil, false, errClientAuth
	}
	if !VerifySecret(client.SecretHash, secret) {
		return nil, false, errClientAuth
	}
	return client, true, nil
}

// maxBasicAuthBytes bounds the encoded credentials of a Basic header:
// client ids and generated secrets are tens of bytes.
const maxBasicAuthBytes = 4 << 10

// parseBasicAuth decodes HTTP Basic credentials and form-urldecodes both
// parts, as RFC 6749 §2.3.1 requires (r.BasicAuth does not).
func parseBasicAuth(header string) (id, secret string, ok bool) {
	const prefix = "basic "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := strings.TrimSpace(header[len(prefix):])
	if len(enc) > maxBasicAuthBytes {
		return "", "", false
	}
	// Decode usual sizes on the stack; only the decoded text is allocated.
	var buf [512]byte
	var raw []byte
	if base64.StdEncoding.DecodedLen(len(enc)) <= len(buf) {
		n, err := base64.StdEncoding.Decode(buf[:], []byte(enc))
		if err != nil {
			return "", "", false
		}
		raw = buf[:n]
	} else {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return "", "", false
		}
	}
	u, pw, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	var err error
	if id, err = url.QueryUnescape(u); err != nil || id == "" || !utf8.ValidString(id) {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(pw); err != nil || !utf8.ValidString(secret) {
		return "", "", false
	}
	return id, secret, true
}

func (s *Server) accessLifetime(c *Client) time.Duration {
	if c.AccessTokenLifetime > 0 {
		return c.AccessTokenLifetime
	}
	return s.opts.AccessTokenLifetime
}

func (s *Server) refreshLifetime(c *Client) time.Duration {
	if c.RefreshTokenLifetime > 0 {
		return c.RefreshTokenLifetime
	}
	return s.opts.RefreshTokenLifetime
}

// canRefresh reports whether a refresh token may be issued to client.
func (s *Server) canRefresh(c *Client) bool {
	return s.refresh != nil && s.GrantEnabled(GrantRefreshToken) && c.HasGrant(GrantRefreshToken)
}

// issueToken generates the token a grant decided on and saves it.
func (s *Server) issueToken(ctx context.Context, client *Client, is *issue) (*Token, error) {
	now := s.now()
	userID := is.userID
	if is.user != nil {
		userID = is.user.ID
	}
	tok := &Token{
		AccessTokenExpiresAt: now.Add(s.accessLifetime(client)),
		Scope:                is.scope,
		ClientID:             client.ID,
		UserID:               userID,
		GrantID:              is.grantID,
		IssuedAt:             now,
		OpenID:               is.openID,
		Audience:             is.audience,
		Actor:                is.actor,
		DPoPJKT:              is.jkt,
		Resources:            is.resources,
		Extra:                is.extra,
	}
	if !is.notAfter.IsZero() && is.notAfter.Before(tok.AccessTokenExpiresAt) {
		// Never past the token it was exchanged for.
		tok.AccessTokenExpiresAt = is.notAfter
	}
	if tok.GrantID == "" {
		id, err := s.newID()
		if err != nil {
			return nil, err
		}
		tok.GrantID = id
	}
	if err := s.setAccessToken(ctx, client, is.user, tok); err != nil {
		return nil, err
	}
	var err error
	if is.refresh && s.canRefresh(client) {
		if tok.RefreshToken, err = s.newRefreshToken(ctx, client, is.user, is.scope); err != nil {
			return nil, err
		}
		tok.RefreshTokenExpiresAt = now.Add(s.refreshLifetime(client))
		tok.RefreshTokenScope = is.refreshScope
		if !slices.Equal(is.grantResources, is.resources) && len(is.grantResources) > 0 {
			tok.RefreshTokenResources = is.grantResources
		}
	}
	if (is.openID != nil || is.idToken) && tok.UserID != "" && s.isOpenID(tok.Scope) {
		// OIDC Core §3.1.3.3 (code), §12.2 (refresh: same sub and
		// auth_time, no nonce); the device grant likewise when openid was
		// granted. Signed before the tokens are saved, so that a signing
		// failure stores nothing.
		is.signedIDToken, err = s.issueIDToken(ctx, &idTokenParams{client: client, userID: tok.UserID,
			session: is.openID, scope: tok.Scope, nonce: is.nonce, accessToken: tok.AccessToken})
		if err != nil {
			return nil, err
		}
	}
	if is.code != nil {
		if err := s.saveRedeemed(ctx, tok, client, is); err != nil {
			return nil, err
		}
		return tok, nil
	}
	if err := s.model.SaveToken(ctx, tok, client, is.user); err != nil {
		return nil, storeError("SaveToken", err)
	}
	return tok, nil
}

func (s *Server) tokenResponse(tok *Token, is *issue) *TokenResponse {
	resp := &TokenResponse{
		AccessToken:  tok.AccessToken,
		TokenType:    "Bearer",
		RefreshToken: tok.RefreshToken,
		Scope:        FormatScope(tok.Scope),
		Token:        tok,
		DPoPNonce:    s.DPoPNonce(),
	}
	if tok.DPoPJKT != "" {
		resp.TokenType = DPoPScheme // RFC 9449 §5
	}
	if d := tok.AccessTokenExpiresAt.Sub(tok.IssuedAt); d > 0 {
		resp.ExpiresIn = int64((d + time.Second - 1) / time.Second)
	}
	if s.opts.AllowExtendedTokenAttributes && len(tok.Extra) > 0 {
		resp.Extra = tok.Extra
	}
	return resp
}
