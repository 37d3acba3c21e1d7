package oauth2server

import (
	"context"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errNoDeviceCode  = oerrors.ErrInvalidRequest.WithDescription("The device_code parameter is missing.")
	errBadDeviceCode = oerrors.ErrInvalidGrant.WithDescription("The device code is invalid or was already used.")
)

// slowDownStep is what RFC 8628 §3.5 adds to the interval on slow_down.
const slowDownStep = 5 * time.Second

// grantDeviceCode implements the device access token request (RFC 8628
// §3.4, §3.5). Each poll is recorded atomically; the answer follows the
// state of the request:
//
//   - unknown, another client's, or redeemed: invalid_grant
//   - expired: expired_token
//   - denied: access_denied
//   - pending, polled sooner than the interval: slow_down, and the
//     interval grows by 5 seconds for this and every later poll
//   - pending: authorization_pending
//   - approved: redeemed once (atomically) for tokens of the approving user
func (s *Server) grantDeviceCode(ctx context.Context, req *TokenRequest) (*issue, error) {
	raw := req.Params["device_code"]
	if raw == "" {
		return nil, errNoDeviceCode
	}
	now := s.now()
	dc, err := s.devices.PollDeviceCode(ctx, raw, req.Client.ID, now)
	if err != nil {
		return nil, storeError("PollDeviceCode", err)
	}
	// Another client's code is answered like an unknown one: the code is
	// bound to the client that requested it (RFC 8628 §3.4).
	if dc == nil || dc.ClientID != req.Client.ID {
		return nil, errBadDeviceCode
	}
	if !now.Before(dc.ExpiresAt) {
		return nil, oerrors.ErrExpiredToken
	}
	switch dc.Status {
	case DeviceCodeDenied:
		return nil, oerrors.ErrAccessDenied
	case DeviceCodePending:
		if tooFast(dc, now) {
			if err := s.devices.RaiseDeviceInterval(ctx, raw, dc.Interval+slowDownStep); err != nil {
				return nil, storeError("RaiseDeviceInterval", err)
			}
			return nil, oerrors.ErrSlowDown
		}
		return nil, oerrors.ErrAuthorizationPending
	case DeviceCodeApproved:
	case DeviceCodeRedeemed:
		return nil, s.deviceCodeReplayed(ctx, dc)
	default:
		return nil, errBadDeviceCode
	}
	ok, err := s.devices.ConsumeDeviceCode(ctx, raw)
	if err != nil {
		return nil, storeError("ConsumeDeviceCode", err)
	}
	if !ok {
		// A concurrent poll redeemed it first: the code was presented
		// twice.
		return nil, s.deviceCodeReplayed(ctx, dc)
	}
	is := &issue{userID: dc.UserID, scope: dc.Scope, grantID: dc.GrantID, refresh: true, idToken: true}
	if dc.UserID != "" {
		is.user = &User{ID: dc.UserID}
	}
	return is, nil
}

// deviceCodeReplayed treats a redeemed device code presented again like a
// replayed authorization code (RFC 6749 §4.1.2, RFC 9700 §4.14.2): the
// device code may have leaked, so the tokens it produced are revoked. The
// legitimate device polls until it gets its tokens and never again.
func (s *Server) deviceCodeReplayed(ctx context.Context, dc *DeviceCode) error {
	if s.families != nil && dc.GrantID != "" {
		if err := s.families.RevokeGrant(ctx, dc.GrantID); err != nil {
			return storeError("RevokeGrant", err)
		}
	}
	return errBadDeviceCode
}

// tooFast reports whether the poll at now came sooner than the interval
// after the previous one. A fifth of the interval is forgiven: a client
// that waits the interval between sends (x/oauth2 uses a ticker) sees its
// requests arrive with network jitter, and a spurious slow_down would cost
// it 5 seconds for the rest of the flow.
func tooFast(dc *DeviceCode, now time.Time) bool {
	if dc.LastPolledAt.IsZero() {
		return false
	}
	return now.Sub(dc.LastPolledAt) < dc.Interval-dc.Interval/5
}
