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

// attemptKeyType and attemptAccountType are the context keys of
// [WithAttemptKey] and [WithAttemptAccount].
type (
	attemptKeyType     struct{}
	attemptAccountType struct{}
)

// WithAttemptKey returns a copy of ctx that carries the source address
// under which [Server.LookupUserCode], [Server.ApproveDevice] and
// [Server.DenyDevice] count unknown user codes, so that one guesser is
// limited by [DeviceOptions.UserCodeMaxFailures]. Use [Server.ClientAddress],
// which groups IPv6 addresses by /64 and believes X-Forwarded-For only from
// [Options.TrustedProxies].
//
// SECURITY: derive the key from something the client cannot choose freely,
// or every request brings a fresh key.
func WithAttemptKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, attemptKeyType{}, key)
}

// WithAttemptAccount returns a copy of ctx that carries the account (the
// logged-in user's ID) under which unknown user codes are counted too,
// limited by [DeviceOptions.UserCodeMaxAccountFailures].
func WithAttemptAccount(ctx context.Context, account string) context.Context {
	return context.WithValue(ctx, attemptAccountType{}, account)
}

// attemptBuckets returns the counter keys and limits that bound user code
// guessing for the context.
func (s *Server) attemptBuckets(ctx context.Context) [2]attemptBucket {
	addr, _ := ctx.Value(attemptKeyType{}).(string)
	acct, _ := ctx.Value(attemptAccountType{}).(string)
	var b [2]attemptBucket
	if addr != "" && s.opts.Device.UserCodeMaxFailures > 0 {
		b[0] = attemptBucket{counterKey("usercode-addr", addr), int64(s.opts.Device.UserCodeMaxFailures)}
	}
	if acct != "" && s.opts.Device.UserCodeMaxAccountFailures > 0 {
		b[1] = attemptBucket{counterKey("usercode-acct", acct), int64(s.opts.Device.UserCodeMaxAccountFailures)}
	}
	return b
}

type attemptBucket struct {
	key string
	max int64
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
// limit on unknown codes per source address ([WithAttemptKey]) and per
// account ([WithAttemptAccount]), kept in the model's [CounterModel]. With
// the defaults (10 failures per 10 minutes per key) and 10 000 live codes,
// one key finds one with probability about 4e-6 per window. Only unknown
// codes count: a user entering a valid code is never slowed down.
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
	buckets := s.attemptBuckets(ctx)
	now := s.now()
	window := s.opts.Device.UserCodeFailureWindow
	// Charge every bucket first and give the charge back when the code is
	// found: only unknown codes count, and concurrent
	// guesses of one key cannot overrun its limit.
	refund := func(n int) {
		rctx := context.WithoutCancel(ctx) // even when the request was cancelled
		for _, b := range buckets[:n] {
			if b.key != "" {
				_, _ = s.counters.AddCounter(rctx, b.key, -1, window, now)
			}
		}
	}
	for i, b := range buckets {
		if b.key == "" {
			continue
		}
		c, err := s.counters.AddCounter(ctx, b.key, 1, window, now)
		if err != nil {
			refund(i)
			return "", nil, storeError("AddCounter", err)
		}
		if c.Count > b.max {
			refund(i + 1)
			return "", nil, ErrTooManyAttempts.WithRetryAfter(c.ExpiresAt.Sub(now))
		}
	}
	dc, err := s.devices.GetDeviceCodeByUserCode(ctx, canonical)
	if err != nil {
		refund(len(buckets))
		return "", nil, storeError("GetDeviceCodeByUserCode", err)
	}
	if dc == nil {
		return "", nil, ErrInvalidUserCode
	}
	refund(len(buckets))
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
	if err := s.decide(ctx, canonical, &DeviceDecision{Approved: true, UserID: user.ID, Scope: scope, Now: now}); err != nil {
		return err
	}
	s.Record(ctx, Event{Kind: EventDeviceApproved, ClientID: dc.ClientID, UserID: user.ID, Scope: scope})
	return nil
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
	if err := s.decide(ctx, canonical, &DeviceDecision{Approved: false, Now: now}); err != nil {
		return err
	}
	s.Record(ctx, Event{Kind: EventDeviceDenied, ClientID: dc.ClientID})
	return nil
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
