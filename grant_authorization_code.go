package oauth2server

import (
	"context"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errNoCode           = oerrors.ErrInvalidRequest.WithDescription("The code parameter is missing.")
	errBadCode          = oerrors.ErrInvalidGrant.WithDescription("The authorization code is invalid, expired, or was already used.")
	errRedirectMismatch = oerrors.ErrInvalidGrant.WithDescription("The redirect_uri does not match the one of the authorization request.")
	errVerifierMissing  = oerrors.ErrInvalidGrant.WithDescription("The code_verifier parameter is required for this code.")
	errVerifierSyntax   = oerrors.ErrInvalidRequest.WithDescription("The code_verifier is malformed (RFC 7636 section 4.1).")
	errVerifierMismatch = oerrors.ErrInvalidGrant.WithDescription("The code_verifier does not match the code_challenge.")
	errPKCEDowngrade    = oerrors.ErrInvalidGrant.WithDescription("A code_verifier was sent for a code issued without code_challenge.")
	errPKCERequired     = oerrors.ErrInvalidGrant.WithDescription("The code was issued without PKCE, which this client requires.")
)

// grantAuthorizationCode implements RFC 6749 §4.1.3 with PKCE (RFC 7636)
// and the checks of RFC 9700 §2.1.1: the code is bound to the client and the
// redirect URI, PKCE downgrade is refused, and the code is used once. A
// replayed code revokes every token issued from it.
func (s *Server) grantAuthorizationCode(ctx context.Context, req *TokenRequest) (*issue, error) {
	p := req.Params
	raw := p["code"]
	if raw == "" {
		return nil, errNoCode
	}
	verifier := p["code_verifier"]
	if verifier != "" && !ValidPKCEString(verifier) {
		return nil, errVerifierSyntax
	}
	code, err := s.codes.GetAuthorizationCode(ctx, raw)
	if err != nil {
		return nil, storeError("GetAuthorizationCode", err)
	}
	if code == nil || code.ClientID != req.Client.ID {
		return nil, errBadCode
	}
	if code.GrantID == "" {
		// A code saved without a family (e.g. by a model that issues codes
		// itself) gets one derived from the code, so that a replay can
		// still find and revoke the tokens the code produced.
		code.GrantID = "code:" + TokenDigest(code.Code)
	}
	if code.Revoked {
		return nil, s.codeReplayed(ctx, code)
	}
	if !s.now().Before(code.ExpiresAt) {
		return nil, errBadCode
	}
	if p["redirect_uri"] != code.RedirectURI {
		// Identical when the authorization request had one (RFC 6749
		// §4.1.3); absent when it had none.
		return nil, errRedirectMismatch
	}
	switch {
	case code.CodeChallenge == "" && verifier != "":
		return nil, errPKCEDowngrade
	case code.CodeChallenge == "" && (req.Client.IsPublic() || s.opts.RequirePKCE):
		return nil, errPKCERequired
	case code.CodeChallenge != "" && verifier == "":
		return nil, errVerifierMissing
	case code.CodeChallenge != "":
		if code.CodeChallengeMethod == PKCEMethodPlain && !s.opts.AllowPlainPKCE {
			return nil, errVerifierMismatch
		}
		if !verifyPKCE(code.CodeChallengeMethod, code.CodeChallenge, verifier) {
			return nil, errVerifierMismatch
		}
	}
	if code.DPoPJKT != "" && code.DPoPJKT != req.DPoPJKT {
		// RFC 9449 §10: the code is bound to the key of dpop_jkt.
		return nil, errDPoPCodeKey
	}
	// RFC 8707 §2.2: the request may narrow the audience to some of the
	// granted resources; the refresh token keeps them all.
	audience, err := s.grantResources(ctx, req.Client, code.Resources, req.Resources)
	if err != nil {
		return nil, err
	}
	is := &issue{userID: code.UserID, scope: code.Scope, grantID: code.GrantID, refresh: true,
		resources: audience, grantResources: code.Resources, resourcesSet: true}
	// Redeem only after every check passed, so that a stolen code without
	// its verifier cannot burn the legitimate client's code. A model that
	// redeems and saves in one step does it in issueToken (saveRedeemed).
	if s.redeem != nil {
		is.code = code
	} else {
		ok, err := s.codes.RevokeAuthorizationCode(ctx, code)
		if err != nil {
			return nil, storeError("RevokeAuthorizationCode", err)
		}
		if !ok {
			return nil, s.codeReplayed(ctx, code)
		}
	}
	if len(code.Resources) == 0 {
		is.grantResources = audience // resources named at the token endpoint only
	}
	if code.OpenID != nil {
		// The tokens keep the login, not the nonce: the nonce is echoed by
		// this exchange's ID token only.
		is.nonce = code.OpenID.Nonce
		is.openID = code.OpenID.Clone()
		is.openID.Nonce = ""
	}
	if code.UserID != "" {
		is.user = &User{ID: code.UserID}
	}
	return is, nil
}

// saveRedeemed spends the code of is and saves tok, which it buys, in one
// step of the model (CodeRedemptionModel): a code spent before, or of a
// family revoked before, saves nothing and counts as a replay, as a lost
// RevokeAuthorizationCode does.
func (s *Server) saveRedeemed(ctx context.Context, tok *Token, client *Client, is *issue) error {
	ok, err := s.redeem.RedeemAuthorizationCode(ctx, is.code, tok, client, is.user)
	if err != nil {
		return storeError("RedeemAuthorizationCode", err)
	}
	if !ok {
		return s.codeReplayed(ctx, is.code)
	}
	return nil
}

// codeReplayed revokes the tokens issued from a code presented twice
// (RFC 6749 §4.1.2, §10.5) and returns the error for the client.
func (s *Server) codeReplayed(ctx context.Context, code *AuthorizationCode) error {
	if err := s.families.RevokeGrant(ctx, code.GrantID); err != nil {
		return storeError("RevokeGrant", err)
	}
	s.Record(ctx, Event{Kind: EventCodeReplay, ClientID: code.ClientID, UserID: code.UserID, GrantID: code.GrantID})
	return errBadCode
}
