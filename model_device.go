package oauth2server

import (
	"context"
	stderrors "errors"
	"slices"
	"time"
)

// GrantDeviceCode is the grant type of the device authorization grant
// (RFC 8628 §3.4).
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// DeviceCodeStatus is the state of a device authorization request.
type DeviceCodeStatus string

// States of a device authorization request. A request starts pending; the
// user approves or denies it once; an approved request is redeemed once at
// the token endpoint.
const (
	DeviceCodePending  DeviceCodeStatus = "pending"
	DeviceCodeApproved DeviceCodeStatus = "approved"
	DeviceCodeDenied   DeviceCodeStatus = "denied"
	DeviceCodeRedeemed DeviceCodeStatus = "redeemed"
)

// ErrUserCodeTaken is returned (possibly wrapped) by
// [DeviceCodeModel.SaveDeviceCode] when the user code, or the device code,
// is already used by a device authorization request that has not expired.
// The Server then retries with new codes. User codes are short (RFC 8628
// §6.1), so a rare collision is expected and must be detected by the store,
// e.g. with a unique index.
var ErrUserCodeTaken = stderrors.New("oauth2server: user code already in use")

// DeviceCode is a device authorization request (RFC 8628 §3.1, §3.2) and
// what became of it.
type DeviceCode struct {
	// DeviceCode is the device_code the client polls with. Models receive
	// it in [DeviceCodeModel.SaveDeviceCode] and should store only its
	// digest ([TokenDigest]); a DeviceCode returned by a model may leave it
	// empty, the Server fills it in from the request.
	DeviceCode string
	// UserCode is the user code in canonical form ("BCDF-GHJK", see
	// [NormalizeUserCode]). Models should store only its digest, like
	// DeviceCode, and may return it empty.
	UserCode string
	// ClientID is the client the request was made by.
	ClientID string
	// Scope is the requested scope (after ValidateScope) while pending, and
	// the scope the user granted once approved.
	Scope []string
	// IssuedAt is when the request was made.
	IssuedAt time.Time
	// ExpiresAt is when the device code and the user code expire.
	ExpiresAt time.Time
	// Interval is the minimum time between two polls of the client. It
	// grows by 5 seconds each time the client polls too fast (RFC 8628
	// §3.5, slow_down).
	Interval time.Duration
	// LastPolledAt is when the client last polled; zero before the first
	// poll.
	LastPolledAt time.Time
	// Status is the state of the request.
	Status DeviceCodeStatus
	// UserID is the user who approved or denied the request; empty while
	// pending.
	UserID string
	// GrantID is the grant family of the tokens the request yields.
	GrantID string
	// Extra holds model-specific data; oauth2server does not read it.
	Extra map[string]any
}

// Clone returns a copy of d that shares no Scope with it, so that models
// can hand out copies through which callers cannot change stored state.
// Extra is copied shallowly.
func (d *DeviceCode) Clone() *DeviceCode {
	if d == nil {
		return nil
	}
	cp := *d
	cp.Scope = slices.Clone(d.Scope)
	return &cp
}

// DeviceDecision is the user's answer to a device authorization request,
// stored with [DeviceCodeModel.SetDeviceDecision].
type DeviceDecision struct {
	// Approved is true when the user approved the request, false when the
	// user denied it.
	Approved bool
	// UserID is the user who decided.
	UserID string
	// Scope is the scope the user granted (nil when denied).
	Scope []string
	// Now is the Server's clock: a request that expired at or before Now
	// must not change.
	Now time.Time
}

// DeviceCodeModel is needed by the device authorization grant (RFC 8628):
// [Server.DeviceAuthorization], the verification page ([Server.LookupUserCode],
// [Server.ApproveDevice], [Server.DenyDevice]) and the token endpoint. Without
// it, or without [DeviceOptions.VerificationURI], the grant is disabled.
//
// Every method that changes state is one atomic store operation (a
// conditional update, e.g. FindOneAndUpdate in MongoDB), never a read
// followed by a write: that is what makes a decision final and a device
// code redeemable once.
//
// SECURITY: store device codes and user codes as digests ([TokenDigest]),
// not in plain text, and index them by digest. The device code is a 256-bit
// bearer secret. The user code has only about 34 bits, so its digest
// protects it from a casual reader of the database, not from brute force;
// it is short-lived and yields no token by itself.
type DeviceCodeModel interface {
	// SaveDeviceCode stores a new pending request. If its user code or
	// device code is used by a request that has not expired, it returns an
	// error wrapping [ErrUserCodeTaken].
	SaveDeviceCode(ctx context.Context, code *DeviceCode) error
	// GetDeviceCodeByUserCode returns the request with this user code
	// (canonical form), or nil. Expired and decided requests may be
	// returned; the Server checks Status and ExpiresAt itself.
	GetDeviceCodeByUserCode(ctx context.Context, userCode string) (*DeviceCode, error)
	// SetDeviceDecision records the user's decision on the request with
	// this user code: Status becomes approved (with d.UserID and d.Scope)
	// or denied. It changes only a pending request whose ExpiresAt is
	// after d.Now, and reports whether it did, so of two concurrent
	// decisions exactly one succeeds.
	SetDeviceDecision(ctx context.Context, userCode string, d *DeviceDecision) (bool, error)
	// PollDeviceCode records a poll of the client clientID: it sets
	// LastPolledAt to now and returns the request as it was before this
	// update (so its LastPolledAt is the previous poll), or nil when the
	// device code is unknown or belongs to another client. Another
	// client's poll must change nothing: it is bad input, and it would
	// otherwise push the real device into slow_down.
	PollDeviceCode(ctx context.Context, deviceCode, clientID string, now time.Time) (*DeviceCode, error)
	// RaiseDeviceInterval sets the request's Interval to interval if that
	// is longer than the stored one (never lowering it, like MongoDB's
	// $max), after the client polled too fast.
	RaiseDeviceInterval(ctx context.Context, deviceCode string, interval time.Duration) error
	// ConsumeDeviceCode marks an approved request redeemed (or deletes
	// it). It changes only an approved request and reports whether it did,
	// so of any number of concurrent calls exactly one reports true.
	ConsumeDeviceCode(ctx context.Context, deviceCode string) (bool, error)
}
