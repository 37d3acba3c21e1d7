package oauth2server

import (
	"context"
	"net/http"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Token type hints of RFC 7009 §2.1 and RFC 7662 §2.1.
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

var (
	errNoToken           = oerrors.ErrInvalidRequest.WithDescription("The token parameter is missing.")
	errOtherClientsToken = oerrors.ErrInvalidGrant.WithDescription("The token was issued to another client.")
	errCannotRevokeAT    = oerrors.ErrUnsupportedTokenType.WithDescription("The authorization server does not support the revocation of access tokens.")
)

// Revoke handles a revocation request (RFC 7009). It authenticates the
// client (public clients send their client_id), finds the token as a
// refresh or access token, trying the token_type_hint's type first and the
// other one after it (the hint is a speed-up, never trusted), and revokes it:
//
//   - a refresh token revokes its whole grant family, access tokens
//     (opaque and JWT) included (RFC 7009 §2.1, decision 8 of docs/requirements.md);
//   - an access token revokes the token record, i.e. the access token and
//     the refresh token issued with it (RFC 7009 §2.1 "MAY"); a JWT's jti
//     also goes on the deny-list until it expires.
//
// A token of another client is refused with invalid_grant and left
// untouched. An unknown, expired or already revoked token is success, as
// is an unknown hint value (RFC 7009 §2.2). unsupported_token_type is
// answered only when the presented token is an access token and the server
// cannot revoke access tokens: opaque access tokens with a model lacking
// [AccessTokenModel] or [RefreshTokenModel] (RevokeToken). The response to a
// nil error is 200 with an empty body, Cache-Control: no-store and Pragma:
// no-cache ([SetJSONHeaders] without Content-Type).
func (s *Server) Revoke(r *http.Request) error {
	ctx := s.withAddress(r)
	p, err := s.readForm(r)
	if err != nil {
		return err
	}
	client, authenticated, err := s.authenticateClient(ctx, r, p)
	if err != nil {
		return err
	}
	if err := s.profileClient(client, authenticated); err != nil {
		return err
	}
	return s.revoke(ctx, client, p["token"], p["token_type_hint"])
}

// RevokeTokenFor revokes token on behalf of the client clientID, from Go
// code, exactly as [Server.Revoke] does once it has authenticated that
// client (node's revokeToken): for an application that signs a user out
// of one of its own clients, say. The same rules hold: a token of another
// client is refused with invalid_grant and left untouched; an unknown,
// expired or already revoked token is success; hint is "",
// [HintAccessToken] or [HintRefreshToken]. An unknown clientID is
// invalid_client.
func (s *Server) RevokeTokenFor(ctx context.Context, clientID, token, hint string) error {
	client, err := s.model.GetClient(ctx, clientID)
	if err != nil {
		return storeError("GetClient", err)
	}
	if client == nil {
		return oerrors.ErrInvalidClient
	}
	return s.revoke(ctx, client, token, hint)
}

// revoke revokes token for the authenticated (or identified) client.
func (s *Server) revoke(ctx context.Context, client *Client, token, hint string) error {
	if token == "" {
		return errNoToken
	}
	done, err := s.revokeEither(ctx, client, token, hint)
	if done && err == nil {
		if s.recording() {
			s.Record(ctx, Event{Kind: EventTokenRevoked, ClientID: client.ID, TokenID: TokenDigest(token)})
		}
	}
	return err
}

// revokeEither revokes token as the hint orders the search; done reports
// that it was found (and so revoked).
func (s *Server) revokeEither(ctx context.Context, client *Client, token, hint string) (bool, error) {
	if hint == HintAccessToken {
		done, err := s.revokeAccessToken(ctx, client, token)
		if done || err != nil {
			return done, err
		}
		done, err = s.revokeRefreshToken(ctx, client, token)
		if !done && err == nil && !s.canRevokeAccessTokens() {
			// Not a refresh token, and the client says it is an access
			// token, which this server cannot revoke (RFC 7009 §2.2.1).
			return false, errCannotRevokeAT
		}
		return done, err
	}
	done, err := s.revokeRefreshToken(ctx, client, token)
	if done || err != nil {
		return done, err
	}
	return s.revokeAccessToken(ctx, client, token)
}

// canRevokeAccessTokens reports whether access tokens can be revoked: JWTs
// always (the deny-list is required), opaque ones when they can be found and
// revoked.
func (s *Server) canRevokeAccessTokens() bool {
	return s.jwtAccess || (s.accessTokens != nil && s.refresh != nil)
}

// revokeRefreshToken revokes the family of a refresh token of client. It
// reports whether the token was found as a refresh token.
func (s *Server) revokeRefreshToken(ctx context.Context, client *Client, token string) (bool, error) {
	if s.refresh == nil {
		return false, nil
	}
	tok, err := s.refresh.GetRefreshToken(ctx, token)
	if err != nil {
		return false, storeError("GetRefreshToken", err)
	}
	if tok == nil || tok.RefreshToken == "" {
		return false, nil
	}
	if tok.ClientID != client.ID {
		return true, errOtherClientsToken
	}
	// Revoked or expired tokens are revoked again: harmless, and the
	// family may still hold live access tokens.
	if s.families == nil {
		// No family to revoke beyond the record itself.
		if _, err := s.refresh.RevokeToken(ctx, tok); err != nil {
			return true, storeError("RevokeToken", err)
		}
		return true, nil
	}
	if err := s.families.RevokeGrant(ctx, tok.GrantID); err != nil {
		return true, storeError("RevokeGrant", err)
	}
	return true, nil
}

// revokeAccessToken revokes an access token of client. It reports whether
// the token was found as an access token.
func (s *Server) revokeAccessToken(ctx context.Context, client *Client, token string) (bool, error) {
	if s.jwtAccess && looksLikeJWT(token) {
		if found, err := s.revokeJWT(ctx, client, token); found || err != nil {
			return found, err
		}
	}
	if s.accessTokens == nil {
		return false, nil
	}
	tok, err := s.accessTokens.GetAccessToken(ctx, token)
	if err != nil {
		return false, storeError("GetAccessToken", err)
	}
	if tok == nil {
		return false, nil
	}
	if tok.ClientID != client.ID {
		return true, errOtherClientsToken
	}
	if s.refresh == nil {
		return true, errCannotRevokeAT
	}
	if _, err := s.refresh.RevokeToken(ctx, tok); err != nil {
		return true, storeError("RevokeToken", err)
	}
	if tok.ID != "" && s.jtis != nil {
		// A JWT issued before the format changed back to opaque.
		if err := s.jtis.RevokeJTI(ctx, tok.ID, tok.AccessTokenExpiresAt); err != nil {
			return true, storeError("RevokeJTI", err)
		}
	}
	return true, nil
}

// revokeJWT deny-lists the jti of a JWT access token issued by this server
// to client. A JWT that does not verify (expired, foreign, forged) is not
// found: it is no usable token, so there is nothing to revoke.
func (s *Server) revokeJWT(ctx context.Context, client *Client, raw string) (bool, error) {
	c, err := s.parseJWTAccessToken(raw, 0)
	if err != nil {
		return false, nil
	}
	if c.ClientID != client.ID {
		return true, errOtherClientsToken
	}
	if err := s.jtis.RevokeJTI(ctx, c.ID, unixDate(c.Expiry).Time); err != nil {
		return true, storeError("RevokeJTI", err)
	}
	if s.accessTokens == nil || s.refresh == nil {
		return true, nil
	}
	// Revoke the record too, so that the refresh token issued with the JWT
	// and introspection of the record agree with the deny-list.
	tok, err := s.accessTokens.GetAccessToken(ctx, raw)
	if err != nil {
		return true, storeError("GetAccessToken", err)
	}
	if tok != nil && tok.ClientID == client.ID {
		if _, err := s.refresh.RevokeToken(ctx, tok); err != nil {
			return true, storeError("RevokeToken", err)
		}
	}
	return true, nil
}
