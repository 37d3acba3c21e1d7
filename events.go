package oauth2server

import (
	"context"
	stderrors "errors"
	"net/http"
	"slices"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// EventKind names what an [Event] reports.
type EventKind string

// The events of [Options.OnEvent]. The Server records all but the last
// four kinds itself; the application records those with [Server.Record],
// as the example's login page does.
const (
	// EventTokenIssued: the token endpoint or the implicit grant issued
	// an access token (and maybe a refresh token).
	EventTokenIssued EventKind = "token_issued"
	// EventRefreshRotated: a refresh token was spent for a new one.
	EventRefreshRotated EventKind = "refresh_rotated"
	// EventRefreshReuse: a spent refresh token was presented again; its
	// whole grant family was revoked (RFC 9700 §4.14.2).
	EventRefreshReuse EventKind = "refresh_reuse_detected"
	// EventCodeReplay: a redeemed authorization code was presented again;
	// the tokens it produced were revoked (RFC 6749 §4.1.2).
	EventCodeReplay EventKind = "code_replay_detected"
	// EventTokenRevoked: a client revoked one of its tokens (RFC 7009).
	EventTokenRevoked EventKind = "token_revoked"
	// EventTokenIntrospected: a resource server introspected a token
	// (RFC 7662); Active says what it learnt.
	EventTokenIntrospected EventKind = "token_introspected"
	// EventClientAuthFailed: a client failed to authenticate at the token,
	// revocation, introspection or device authorization endpoint. ClientID
	// is the identifier it claimed, which nothing vouches for.
	EventClientAuthFailed EventKind = "client_authentication_failed"
	// EventConsentGranted and EventConsentDenied: the user decided on an
	// authorization request ([Server.Authorize]).
	EventConsentGranted EventKind = "consent_granted"
	EventConsentDenied  EventKind = "consent_denied"
	// EventDeviceApproved and EventDeviceDenied: the user decided on a
	// device authorization request ([Server.ApproveDevice],
	// [Server.DenyDevice]).
	EventDeviceApproved EventKind = "device_approved"
	EventDeviceDenied   EventKind = "device_denied"
	// EventPARPushed: the PAR endpoint stored a pushed authorization
	// request (RFC 9126, [Server.PushAuthorizationRequest]). TokenID is the
	// digest of its request_uri ([TokenDigest], what models store), never
	// the request_uri: with the public client_id it presents the request
	// to a user at the authorization endpoint, so it is kept like a token.
	EventPARPushed EventKind = "par_pushed"
	// EventPARRejected: the PAR endpoint refused the request of a known
	// client: an invalid parameter, a throttle. Reason and Description say
	// why. A failed client authentication is an [EventClientAuthFailed]
	// and a refused DPoP proof an [EventDPoPProofRejected] instead.
	EventPARRejected EventKind = "par_rejected"
	// EventDPoPProofRejected: a DPoP proof (RFC 9449) was refused at the
	// token or PAR endpoint, or at a resource server (packages middleware
	// and nethttp, [Server.RecordDPoPRejection]), where a DPoP-bound token
	// sent without a proof counts too. Description says which check
	// failed. use_dpop_nonce is not recorded: with
	// [DPoPOptions.RequireNonce] it is the normal answer to a client's
	// first proof and to every stale nonce.
	EventDPoPProofRejected EventKind = "dpop_proof_rejected"
	// EventDPoPReplay: a DPoP proof was presented again (its jti for the
	// same URL, R-172), at the token or PAR endpoint or at a resource
	// server: a captured proof, or a client that resends its proofs.
	EventDPoPReplay EventKind = "dpop_replay_detected"

	// Recorded by the application ([Server.Record]).
	EventLoginSucceeded EventKind = "login_succeeded"
	EventLoginFailed    EventKind = "login_failed"
	EventLoginThrottled EventKind = "login_throttled"
	// EventConsentRevoked: a user's authorization of a client was
	// withdrawn. [Server.RevokeAuthorization], [Server.RevokeAllForUser],
	// [Server.RevokeAllForClient] and [Server.RevokeConsentByID] record it
	// too, once per user and client.
	EventConsentRevoked EventKind = "consent_revoked"
)

// Event is one audit event. It never holds a secret, a token or a code:
// a token is named by TokenID, its jti or its digest ([TokenDigest]).
type Event struct {
	Kind EventKind `json:"kind"`
	// Time is when it happened, on the Server's clock.
	Time time.Time `json:"time"`
	// ClientID is the client concerned (for EventClientAuthFailed, the one
	// claimed).
	ClientID string `json:"client_id,omitempty"`
	// UserID and Username identify the user; Username only in login
	// events.
	UserID   string `json:"user_id,omitempty"`
	Username string `json:"username,omitempty"`
	// GrantType is the grant of an issued token ("implicit" from the
	// authorization endpoint).
	GrantType string   `json:"grant_type,omitempty"`
	Scope     []string `json:"scope,omitempty"`
	// GrantID is the token family; TokenID the token.
	GrantID string `json:"grant_id,omitempty"`
	TokenID string `json:"token_id,omitempty"`
	// Active is the answer of an introspection.
	Active *bool `json:"active,omitempty"`
	// Reason is the OAuth error code of a failure, when there is one.
	Reason string `json:"reason,omitempty"`
	// Description is the error_description the client was answered, for
	// the refusals of PAR and DPoP: which check failed. It is one of the
	// Server's fixed texts and never quotes the request.
	Description string `json:"description,omitempty"`
	// Address is the client address ([Server.ClientAddress]) when the
	// event came from an HTTP request.
	Address string `json:"address,omitempty"`
}

// Record hands e to [Options.OnEvent], with Time set to now when zero and
// the request's address when ctx carries one. Applications record their
// own events (logins, consent revocations) with it, so that one hook sees
// them all. Without OnEvent it does nothing.
func (s *Server) Record(ctx context.Context, e Event) {
	if s.opts.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Address == "" {
		e.Address, _ = ctx.Value(addressKey{}).(string)
	}
	e.Scope = slices.Clone(e.Scope)
	s.opts.OnEvent(ctx, e)
}

// recording reports whether anyone listens to events: call sites that
// compute an event's fields (a token digest, the client address) check it
// first, so that a Server without OnEvent pays nothing on its hot paths.
func (s *Server) recording() bool { return s.opts.OnEvent != nil }

type addressKey struct{}

// withAddress returns the request's context, carrying its client address
// for the events recorded while it is served; the address is worked out
// only when someone listens.
func (s *Server) withAddress(r *http.Request) context.Context {
	ctx := r.Context()
	if s.opts.OnEvent == nil {
		return ctx
	}
	return context.WithValue(ctx, addressKey{}, s.ClientAddress(r))
}

// tokenID names tok in events: its jti, or the digest of its access token.
func tokenID(tok *Token) string {
	if tok.ID != "" {
		return tok.ID
	}
	if tok.AccessToken != "" {
		return TokenDigest(tok.AccessToken)
	}
	return TokenDigest(tok.RefreshToken)
}

// RecordDPoPRejection records, for [Options.OnEvent], that a resource
// server refused the request r for err, the failure of its DPoP proof: an
// [EventDPoPReplay] for a proof used before, else an
// [EventDPoPProofRejected], with the client, user and token id of tok (nil
// when the token is unknown) and the client address. use_dpop_nonce and
// server faults record nothing; without OnEvent it does nothing. Packages
// middleware and nethttp call it; a resource server that checks proofs
// with [Server.ValidateDPoPProof] itself may too.
func (s *Server) RecordDPoPRejection(r *http.Request, tok *Token, err error) {
	if !s.recording() || err == nil {
		return
	}
	e := Event{Address: s.ClientAddress(r)}
	if tok != nil {
		e.ClientID, e.UserID, e.TokenID = tok.ClientID, tok.UserID, tokenID(tok)
	}
	s.recordDPoP(r.Context(), e, oerrors.From(err))
}

// recordDPoPFailure records the refusal of the DPoP proof of client's
// request at the token or PAR endpoint: err is any error of the request,
// and only invalid_dpop_proof is recorded. It reports whether it was.
func (s *Server) recordDPoPFailure(ctx context.Context, client *Client, err error) bool {
	var e *oerrors.Error
	if !stderrors.As(err, &e) || e.Code != oerrors.ErrInvalidDPoPProof.Code {
		return false
	}
	s.recordDPoP(ctx, Event{ClientID: client.ID}, e)
	return true
}

// recordDPoP records e as the refusal of a DPoP proof with err.
func (s *Server) recordDPoP(ctx context.Context, e Event, err *oerrors.Error) {
	if err.Code == oerrors.ErrUseDPoPNonce.Code || oerrors.IsServerError(err) {
		return
	}
	e.Kind = EventDPoPProofRejected
	if err.Description == errDPoPReplay.Description {
		e.Kind = EventDPoPReplay
	}
	e.Reason, e.Description = err.Code, err.Description
	s.Record(ctx, e)
}

// recordPush records the outcome of a push of client, nil until it is
// authenticated: refusals before (a malformed body; a failed
// authentication is an EventClientAuthFailed already) record nothing.
func (s *Server) recordPush(ctx context.Context, client *Client, scope []string, resp *PushedAuthorizationResponse, err error) {
	switch {
	case client == nil:
		return
	case err == nil:
		s.Record(ctx, Event{Kind: EventPARPushed, ClientID: client.ID, Scope: scope, TokenID: TokenDigest(resp.RequestURI)})
		return
	case s.recordDPoPFailure(ctx, client, err):
		return
	}
	e := oerrors.From(err)
	if e.Code == oerrors.ErrUseDPoPNonce.Code || oerrors.IsServerError(e) {
		return
	}
	s.Record(ctx, Event{Kind: EventPARRejected, ClientID: client.ID, Reason: e.Code, Description: e.Description})
}
