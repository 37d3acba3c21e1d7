package oauth2server

import (
	"cmp"
	"context"
	"crypto/rand"
	stderrors "errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Defaults of the device authorization grant (RFC 8628).
const (
	DefaultDeviceCodeLifetime         = 10 * time.Minute
	DefaultDeviceCodeInterval         = 5 * time.Second
	DefaultUserCodeMaxFailures        = 10
	DefaultUserCodeMaxAccountFailures = 10
	DefaultUserCodeFailureWindow      = 10 * time.Minute
	DefaultDeviceMaxPendingPerAddress = 20
	DefaultDeviceMaxPendingPerClient  = 10000
)

// UserCodeAlphabet is the alphabet of user codes: 20 consonants, without
// vowels (no words) and without letters easily confused on a screen, as
// RFC 8628 §6.1 suggests. Eight of them give 20^8 ≈ 2.56e10 codes (34 bits).
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLen is the number of letters of a user code, shown as two groups
// of four ("BCDF-GHJK").
const userCodeLen = 8

var errDeviceDisabled = oerrors.ErrUnsupportedGrantType.WithDescription("The device authorization grant is not enabled.")

// DeviceAuthorizationResponse is a successful device authorization response
// (RFC 8628 §3.2).
type DeviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval,omitempty"`
	// Code is the request as saved in the model.
	Code *DeviceCode `json:"-"`
}

// setupDevice fills the defaults of the device grant and checks its
// options. It runs before the grants are set up.
func (s *Server) setupDevice() error {
	o := &s.opts.Device
	if o.CodeLifetime < 0 || o.Interval < 0 || o.UserCodeFailureWindow < 0 {
		return errorf("Device.CodeLifetime, Device.Interval and Device.UserCodeFailureWindow must not be negative")
	}
	o.CodeLifetime = cmp.Or(o.CodeLifetime, DefaultDeviceCodeLifetime)
	// The interval goes on the wire in whole seconds.
	o.Interval = max(cmp.Or(o.Interval, DefaultDeviceCodeInterval).Round(time.Second), time.Second)
	o.UserCodeMaxFailures = cmp.Or(o.UserCodeMaxFailures, DefaultUserCodeMaxFailures)
	o.UserCodeMaxAccountFailures = cmp.Or(o.UserCodeMaxAccountFailures, DefaultUserCodeMaxAccountFailures)
	o.MaxPendingPerAddress = cmp.Or(o.MaxPendingPerAddress, DefaultDeviceMaxPendingPerAddress)
	o.MaxPendingPerClient = cmp.Or(o.MaxPendingPerClient, DefaultDeviceMaxPendingPerClient)
	o.UserCodeFailureWindow = cmp.Or(o.UserCodeFailureWindow, DefaultUserCodeFailureWindow)

	if o.VerificationURI == "" {
		if slices.Contains(s.opts.Grants, GrantDeviceCode) {
			return errorf("grant %q needs Options.Device.VerificationURI", GrantDeviceCode)
		}
		return nil
	}
	u, err := url.Parse(o.VerificationURI)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Fragment != "" || strings.Contains(o.VerificationURI, "#") {
		return errorf("Device.VerificationURI %q must be an absolute URL without fragment", o.VerificationURI)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopbackHost(u.Hostname())) {
		return errorf("Device.VerificationURI %q must use https (http only on loopback, for development)", o.VerificationURI)
	}
	return nil
}

// deviceMissing names what the device grant lacks, or "".
func (s *Server) deviceMissing() string {
	switch {
	case s.devices == nil:
		return "DeviceCodeModel (SaveDeviceCode, GetDeviceCodeByUserCode, SetDeviceDecision, PollDeviceCode, RaiseDeviceInterval, ConsumeDeviceCode)"
	case s.opts.Device.VerificationURI == "":
		return "Options.Device.VerificationURI"
	case s.families == nil:
		return "GrantModel (RevokeGrant, to revoke the tokens of a replayed device code)"
	}
	return ""
}

// DeviceAuthorizationEnabled reports whether the device authorization
// grant is enabled, i.e. whether the device authorization endpoint should be
// mounted and listed in metadata (device_authorization_endpoint).
func (s *Server) DeviceAuthorizationEnabled() bool { return s.GrantEnabled(GrantDeviceCode) }

// DeviceAuthorization handles a device authorization request (RFC 8628
// §3.1): a POST with a form body, the client authenticated exactly as at the
// token endpoint, or identified by client_id when public. It issues a
// device code and a user code and saves them with
// [DeviceCodeModel.SaveDeviceCode]. Send the response with the headers of
// [SetJSONHeaders] (Cache-Control: no-store); errors are *errors.Error,
// answered with [Server.PrepareError].
func (s *Server) DeviceAuthorization(r *http.Request) (*DeviceAuthorizationResponse, error) {
	ctx := r.Context()
	p, err := s.readForm(r)
	if err != nil {
		return nil, err
	}
	if !s.DeviceAuthorizationEnabled() {
		return nil, errDeviceDisabled
	}
	// An address already known to be over its cap is refused before the
	// client is looked up: a flood from it costs no store access at all.
	budget := s.deviceBudget()
	addrKey := budget.addressKey(s, r)
	if err := s.bucketFull(budget, addrKey); err != nil {
		return nil, err
	}
	client, err := s.clientForGrant(ctx, r, p, GrantDeviceCode)
	if err != nil {
		return nil, err
	}
	requested, err := s.parseScope(p["scope"])
	if err != nil {
		return nil, err
	}
	scope, err := s.validateScope(ctx, client, nil, requested)
	if err != nil {
		return nil, err
	}
	charged, err := s.admitPending(ctx, budget, addrKey, client.ID)
	if err != nil {
		return nil, err
	}
	saved := false
	defer func() {
		if !saved {
			// Nothing was stored: give the charges back, so that a store
			// fault does not use up an address's or a client's budget.
			s.refundPending(ctx, budget, charged)
		}
	}()
	grantID, err := s.newID()
	if err != nil {
		return nil, err
	}
	now := s.now()
	dc := &DeviceCode{
		ClientID:  client.ID,
		Scope:     scope,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.opts.Device.CodeLifetime),
		Interval:  s.opts.Device.Interval,
		Status:    DeviceCodePending,
		GrantID:   grantID,
	}
	// A user code collides with a live one with probability (live codes) /
	// 20^8; three tries make a failure practically impossible.
	for try := 0; ; try++ {
		if dc.DeviceCode, err = randomString(s.opts.Rand, 32); err != nil {
			return nil, storeError("generate device code", err)
		}
		if dc.UserCode, err = generateUserCode(s.opts.Rand); err != nil {
			return nil, storeError("generate user code", err)
		}
		err = s.devices.SaveDeviceCode(ctx, dc.Clone())
		if err == nil {
			saved = true
			break
		}
		if !stderrors.Is(err, ErrUserCodeTaken) || try == 2 {
			return nil, storeError("SaveDeviceCode", err)
		}
	}
	return &DeviceAuthorizationResponse{
		DeviceCode:              dc.DeviceCode,
		UserCode:                dc.UserCode,
		VerificationURI:         s.opts.Device.VerificationURI,
		VerificationURIComplete: s.verificationURIComplete(dc.UserCode),
		ExpiresIn:               int64(s.opts.Device.CodeLifetime / time.Second),
		Interval:                int64(dc.Interval / time.Second),
		Code:                    dc,
	}, nil
}

// verificationURIComplete adds the user code to the verification URI,
// keeping a query it already has (RFC 8628 §3.3.1).
func (s *Server) verificationURIComplete(userCode string) string {
	u := s.opts.Device.VerificationURI
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
		if strings.HasSuffix(u, "?") || strings.HasSuffix(u, "&") {
			sep = ""
		}
	}
	return u + sep + "user_code=" + url.QueryEscape(userCode)
}

// generateUserCode returns a user code of 8 letters of [UserCodeAlphabet]
// as "XXXX-XXXX". It draws bytes from r (crypto/rand when nil) and rejects
// bytes >= 240, the largest multiple of 20 below 256, so that every letter
// is equally likely (no modulo bias).
func generateUserCode(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	const limit = 256 - 256%len(UserCodeAlphabet)
	out := make([]byte, 0, userCodeLen+1)
	var buf [16]byte
	for {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			if len(out) == userCodeLen/2 {
				out = append(out, '-')
			}
			out = append(out, UserCodeAlphabet[int(b)%len(UserCodeAlphabet)])
			if len(out) == userCodeLen+1 {
				return string(out), nil
			}
		}
	}
}

// NormalizeUserCode turns what a user typed into the canonical form of a
// user code, "XXXX-XXXX": letters are case-insensitive, and dashes and
// white space are ignored wherever they are. It reports false when the
// input cannot be a user code (wrong length, or a letter outside
// [UserCodeAlphabet]), which needs no lookup.
func NormalizeUserCode(input string) (string, bool) {
	if len(input) > 64 {
		return "", false
	}
	out := make([]byte, 0, userCodeLen+1)
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == '-' || c == ' ' || c == '\t':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if strings.IndexByte(UserCodeAlphabet, c) < 0 || len(out) == userCodeLen+1 {
			return "", false
		}
		if len(out) == userCodeLen/2 {
			out = append(out, '-')
		}
		out = append(out, c)
	}
	if len(out) != userCodeLen+1 {
		return "", false
	}
	return string(out), true
}

// pendingBudget bounds the store writes that a request which needs no
// credential can cause (a public client's device authorization or
// pushed authorization request): per source address, then per client,
// within window. Full buckets are remembered in this
// process (Server.deviceFull) until their windows end, so a flood above
// a cap costs no store access.
type pendingBudget struct {
	prefix          string // counter key prefix, e.g. "device"
	perAddr, perCli int    // caps; 0 or less: none
	window          time.Duration
	full            *oerrors.Error // the 429 answer
}

func (s *Server) deviceBudget() pendingBudget {
	return pendingBudget{prefix: "device", perAddr: s.opts.Device.MaxPendingPerAddress,
		perCli: s.opts.Device.MaxPendingPerClient, window: s.opts.Device.CodeLifetime, full: errDeviceThrottled}
}

// addressKey is the budget's bucket of the request's source address, ""
// when the address cannot be told (a unix socket, say: all such requests
// would share one bucket) or there is no per-address cap.
func (b pendingBudget) addressKey(s *Server, r *http.Request) string {
	if address := s.ClientAddress(r); address != "" && b.perAddr > 0 {
		return counterKey(b.prefix+"-addr", address)
	}
	return ""
}

// bucketFull refuses a request to a bucket this process found full:
// buckets are not refunded once full, so one stays full until its window
// ends.
func (s *Server) bucketFull(b pendingBudget, key string) error {
	if key == "" {
		return nil
	}
	now := s.now()
	if n, until := s.deviceFull.Get(key, now); n > 0 {
		return b.full.WithRetryAfter(until.Sub(now))
	}
	return nil
}

// admitPending charges one pending item to the source address (addrKey,
// "" for none), then to the client, and refuses with 429 once either has
// started its cap within the window. The client is charged only after the
// address admitted the request, so one address cannot drain the client's
// budget, and a refusal by the client gives the address its charge back.
// It returns the keys it charged, for [Server.refundPending] when the
// request fails later.
func (s *Server) admitPending(ctx context.Context, b pendingBudget, addrKey, clientID string) ([]string, error) {
	buckets := []struct {
		key string
		max int
	}{
		{addrKey, b.perAddr},
		{counterKey(b.prefix+"-client", clientID), b.perCli},
	}
	var charged []string
	for _, bk := range buckets {
		if bk.key == "" || bk.max <= 0 {
			continue
		}
		if err := s.bucketFull(b, bk.key); err != nil {
			s.refundPending(ctx, b, charged)
			return nil, err
		}
		now := s.now()
		c, err := s.counters.AddCounter(ctx, bk.key, 1, b.window, now)
		if err != nil {
			s.refundPending(ctx, b, charged)
			return nil, storeError("AddCounter", err)
		}
		if c.Count > int64(bk.max) {
			s.deviceFull.Add(bk.key, 1, c.ExpiresAt.Sub(now), now)
			s.refundPending(ctx, b, charged)
			return nil, b.full.WithRetryAfter(c.ExpiresAt.Sub(now))
		}
		charged = append(charged, bk.key)
	}
	return charged, nil
}

// refundPending gives back the charges of a request that stored nothing.
// It runs even when the request's context was cancelled; a refund that
// fails is lost, which errs on the strict side.
func (s *Server) refundPending(ctx context.Context, b pendingBudget, keys []string) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range keys {
		_, _ = s.counters.AddCounter(ctx, k, -1, b.window, s.now())
	}
}

var errDeviceThrottled = errThrottled.WithDescription(throttleDescriptionDevice)
