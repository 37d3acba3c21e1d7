package oauth2server

import (
	"context"
	"net/http"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Errors of the verification side of the device grant, for the page of the
// application where the user enters the user code. They are *errors.Error
// values with codes of their own, so errors.Is tells them apart and Status
// is the HTTP status to answer with.
var (
	// ErrInvalidUserCode: the user code is malformed, unknown, expired, or
	// was already approved or denied. 400.
	ErrInvalidUserCode = &oerrors.Error{Code: "invalid_user_code", Status: http.StatusBadRequest,
		Description: "The code is invalid, expired, or was already used."}
	// ErrTooManyAttempts: too many unknown user codes were entered; the
	// page should answer 429 and ask the user to try again later.
	ErrTooManyAttempts = &oerrors.Error{Code: "too_many_attempts", Status: http.StatusTooManyRequests,
		Description: "Too many invalid codes were entered. Try again later."}
)

var errApprovalScope = oerrors.ErrInvalidScope.WithDescription("The approved scope exceeds the requested scope.")

// attemptKeyType is the context key of [WithAttemptKey].
type attemptKeyType struct{}

// WithAttemptKey returns a copy of ctx that carries the key under which
// [Server.LookupUserCode], [Server.ApproveDevice] and [Server.DenyDevice]
// count unknown user codes, e.g. the client IP address or a session id, so
// that one guesser is limited by [Options.UserCodeMaxFailures]. Without a
// key only the global limit applies.
//
// SECURITY: derive the key from something the client cannot choose freely:
// behind a proxy, trust X-Forwarded-For only from your own proxies (Echo's
// IPExtractor), or every request brings a fresh key.
func WithAttemptKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, attemptKeyType{}, key)
}

func attemptKey(ctx context.Context) string {
	k, _ := ctx.Value(attemptKeyType{}).(string)
	return k
}

// errDeviceNotEnabled is a programming error: the verification page is
// mounted while the grant is disabled.
var errDeviceNotEnabled = errorf("the device authorization grant is not enabled")

// LookupUserCode returns the pending, unexpired device authorization
// request for what the user typed (normalized with [NormalizeUserCode]),
// for the verification page to show the client and scope before the user
// approves. It returns [ErrInvalidUserCode] for anything else and
// [ErrTooManyAttempts] once the attempt limits of [Options] are exhausted;
// any other error is a storage fault. The returned DeviceCode has
// UserCode set to the canonical code and DeviceCode empty.
//
// Guessing is bounded twice (RFC 8628 §5.1): 20^8 ≈ 2.56e10 codes, and a
// limit on unknown codes per attempt key ([WithAttemptKey]) and in total.
// With the defaults (10000 failures per 10 minutes in total) and 100 live
// codes, a guesser finds one with probability about 4e-5 per window.
func (s *Server) LookupUserCode(ctx context.Context, userCode string) (*DeviceCode, error) {
	canonical, dc, err := s.lookupUserCode(ctx, userCode)
	if err != nil {
		return nil, err
	}
	if dc.Status != DeviceCodePending || !s.now().Before(dc.ExpiresAt) {
		return nil, ErrInvalidUserCode
	}
	dc.UserCode = canonical
	dc.DeviceCode = ""
	return dc, nil
}

// lookupUserCode normalizes the input, charges an attempt, and finds the
// request, refunding the attempt when it exists.
func (s *Server) lookupUserCode(ctx context.Context, input string) (string, *DeviceCode, error) {
	if !s.DeviceAuthorizationEnabled() {
		return "", nil, errDeviceNotEnabled
	}
	canonical, ok := NormalizeUserCode(input)
	if !ok {
		// A typo costs no lookup and is no guess worth counting.
		return "", nil, ErrInvalidUserCode
	}
	key := attemptKey(ctx)
	now := s.now()
	// Charge first and refund on success, so that concurrent guesses
	// cannot overrun the limit.
	if !s.attempts.take(key, now) {
		return "", nil, ErrTooManyAttempts
	}
	dc, err := s.devices.GetDeviceCodeByUserCode(ctx, canonical)
	if err != nil {
		s.attempts.refund(key)
		return "", nil, storeError("GetDeviceCodeByUserCode", err)
	}
	if dc == nil {
		return "", nil, ErrInvalidUserCode
	}
	s.attempts.refund(key)
	return canonical, dc, nil
}

// ApproveDevice records that user approved the device authorization
// request with this user code, granting scope, which must be within the
// requested scope (nil grants all of it) and passes ValidateScope for the
// user. The client's next poll then receives the tokens. It returns
// [ErrInvalidUserCode] when the request is unknown, expired, or already
// decided (a concurrent decision won), and counts attempts like
// [Server.LookupUserCode].
func (s *Server) ApproveDevice(ctx context.Context, userCode string, user *User, scope []string) error {
	if user == nil || user.ID == "" {
		return errorf("ApproveDevice needs a user with an ID")
	}
	canonical, dc, err := s.lookupUserCode(ctx, userCode)
	if err != nil {
		return err
	}
	now := s.now()
	if dc.Status != DeviceCodePending || !now.Before(dc.ExpiresAt) {
		return ErrInvalidUserCode
	}
	if scope == nil {
		scope = dc.Scope
	} else if !ScopeCovers(dc.Scope, scope) {
		return errApprovalScope
	}
	client, err := s.model.GetClient(ctx, dc.ClientID)
	if err != nil {
		return storeError("GetClient", err)
	}
	if client == nil {
		return ErrInvalidUserCode
	}
	if scope, err = s.validateScope(ctx, client, user, scope); err != nil {
		return err
	}
	return s.decide(ctx, canonical, &DeviceDecision{Approved: true, UserID: user.ID, Scope: scope, Now: now})
}

// DenyDevice records that the user denied the device authorization request
// with this user code; the client's next poll receives access_denied. It
// returns [ErrInvalidUserCode] like [Server.ApproveDevice].
func (s *Server) DenyDevice(ctx context.Context, userCode string) error {
	canonical, dc, err := s.lookupUserCode(ctx, userCode)
	if err != nil {
		return err
	}
	now := s.now()
	if dc.Status != DeviceCodePending || !now.Before(dc.ExpiresAt) {
		return ErrInvalidUserCode
	}
	return s.decide(ctx, canonical, &DeviceDecision{Approved: false, Now: now})
}

func (s *Server) decide(ctx context.Context, userCode string, d *DeviceDecision) error {
	ok, err := s.devices.SetDeviceDecision(ctx, userCode, d)
	if err != nil {
		return storeError("SetDeviceDecision", err)
	}
	if !ok {
		return ErrInvalidUserCode
	}
	return nil
}
