package oauth2server

import (
	"cmp"
	"context"
	stderrors "errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
)

// Defaults and bounds of [PAROptions.Lifetime].
const (
	DefaultPushedRequestLifetime = 60 * time.Second
	MaxPushedRequestLifetime     = 10 * time.Minute
)

// PAROptions configures pushed authorization requests (RFC 9126,
// [Options.PAR]). They are served when the model implements
// [PushedAuthorizationRequestModel] and the authorization_code grant is
// enabled.
type PAROptions struct {
	// Require refuses, with invalid_request, every authorization request
	// that does not carry a request_uri of the PAR endpoint (RFC 9126 §5,
	// R-167), and says so in the metadata
	// (require_pushed_authorization_requests).
	// [Client.RequirePushedAuthorizationRequests] does the same for one
	// client. Optional. Default false. It needs
	// [PushedAuthorizationRequestModel]; [New] fails without it.
	Require bool
	// Lifetime is how long a request_uri is accepted: its expires_in
	// . The whole interaction, login and consent included, must end
	// within it, because the request is read again, and its expiry checked,
	// each time the user agent comes back with the request_uri. Optional.
	// Default 60 seconds; more than 10 minutes is an error.
	Lifetime time.Duration

	// MaxPendingPerAddress and MaxPendingPerClient cap the pushes of
	// public clients, which need no credential, so that strangers cannot
	// make the store hold requests without bound: per source address
	// ([Server.ClientAddress]) and then per client within Lifetime, counted
	// in the model's [CounterModel] so that the caps hold across instances;
	// above a cap the endpoint answers 429 slow_down with Retry-After and
	// stores nothing. Pushes of authenticated clients are
	// not capped. Optional. Defaults 20 and 10000, as for the device flow;
	// negative disables a cap.
	MaxPendingPerAddress int
	MaxPendingPerClient  int
}

var (
	errPARRequired   = oerrors.ErrInvalidRequest.WithDescription("This client must push its authorization requests (RFC 9126): use the request_uri of the pushed authorization request endpoint.")
	errPushedURI     = oerrors.ErrInvalidRequest.WithDescription("A pushed authorization request must not contain request_uri.")
	errPARDisabled   = oerrors.ErrInvalidRequest.WithDescription("Pushed authorization requests are not supported.")
	errRequestURIID  = oerrors.ErrInvalidRequest.WithDescription("The client_id parameter is required with request_uri.")
	errBadRequestURI = oerrors.ErrInvalidRequestURI.WithDescription("The request_uri is unknown, expired, already used, or was pushed by another client.")
)

// PushedAuthorizationResponse is the answer of the PAR endpoint (RFC 9126
// §2.2), sent with status 201 Created and Cache-Control: no-store.
type PushedAuthorizationResponse struct {
	// RequestURI references the pushed request at the authorization
	// endpoint, with the client_id: single use, bound to the client.
	RequestURI string `json:"request_uri"`
	// ExpiresIn is the lifetime of RequestURI in seconds.
	ExpiresIn int64 `json:"expires_in"`
}

// setupPAR checks [Options.PAR] and fills its defaults.
func (s *Server) setupPAR() error {
	o := &s.opts.PAR
	s.pars, _ = Capability[PushedAuthorizationRequestModel](s.model)
	switch {
	case o.Lifetime < 0:
		return errorf("PAR.Lifetime must not be negative")
	case o.Lifetime == 0:
		o.Lifetime = DefaultPushedRequestLifetime
	case o.Lifetime > MaxPushedRequestLifetime:
		return errorf("PAR.Lifetime %s exceeds %s (RFC 9126 §2.2: a request_uri is short-lived)", o.Lifetime, MaxPushedRequestLifetime)
	}
	o.MaxPendingPerAddress = cmp.Or(o.MaxPendingPerAddress, DefaultDeviceMaxPendingPerAddress)
	o.MaxPendingPerClient = cmp.Or(o.MaxPendingPerClient, DefaultDeviceMaxPendingPerClient)
	if o.Require && s.pars == nil {
		return errorf("PAR.Require needs PushedAuthorizationRequestModel (SavePushedAuthorizationRequest, " +
			"GetPushedAuthorizationRequest, ConsumePushedAuthorizationRequest), which the model does not implement")
	}
	if o.Require && !s.GrantEnabled(GrantAuthorizationCode) {
		return errorf("PAR.Require needs the authorization_code grant")
	}
	return nil
}

// PushedAuthorizationEnabled reports whether the Server serves pushed
// authorization requests: the model implements
// [PushedAuthorizationRequestModel] and the authorization_code grant is
// enabled. Package handlers mounts the PAR endpoint only then.
func (s *Server) PushedAuthorizationEnabled() bool {
	return s.pars != nil && s.GrantEnabled(GrantAuthorizationCode)
}

// requiresPAR reports whether client must push its authorization
// requests. A client registered for it is refused on a server without
// pushed authorization requests too: it fails closed.
func (s *Server) requiresPAR(client *Client) bool {
	return s.opts.PAR.Require || client.RequirePushedAuthorizationRequests
}

// PushAuthorizationRequest handles a request to the pushed authorization
// request endpoint (RFC 9126 §2). It reads the form body as the token
// endpoint does (POST, form, size caps, one value per parameter) and
// authenticates the client as the token endpoint does, its registered
// method included; a public client sends its client_id. A
// request_uri in the body is refused, and then every parameter is
// validated as the authorization endpoint would (redirect URI, response
// type, scope, PKCE, OpenID Connect parameters), before anything is
// stored. Errors are *errors.Error for the token endpoint's JSON
// answer ([Server.PrepareError], R-169).
//
// It stores the request through [PushedAuthorizationRequestModel] under a
// new request_uri of 256 random bits that expires after
// [PAROptions.Lifetime]. Answer it with status 201 and the headers
// of [SetJSONHeaders]; packages handlers and nethttp do.
//
// With [Options.OnEvent] it records an [EventPARPushed], or the refusal of
// a known client's push: an [EventPARRejected], or an
// [EventDPoPProofRejected] or [EventDPoPReplay] for its proof.
func (s *Server) PushAuthorizationRequest(r *http.Request) (resp *PushedAuthorizationResponse, err error) {
	ctx := s.withAddress(r)
	var (
		client *Client
		scope  []string
	)
	if s.recording() {
		defer func() { s.recordPush(ctx, client, scope, resp, err) }()
	}
	p, err := s.readForm(r)
	if err != nil {
		return nil, err
	}
	if !s.PushedAuthorizationEnabled() {
		return nil, errPARDisabled
	}
	client, authenticated, err := s.authenticateClient(ctx, r, p)
	if err != nil {
		return nil, err
	}
	// Only public clients are capped, so the address's bucket is checked
	// once the client is known: an authenticated client behind the same
	// address as a flood is not refused. An address known to be over its
	// cap then costs no store access beyond the client's lookup.
	budget := s.parBudget()
	addrKey := ""
	if !authenticated {
		addrKey = budget.addressKey(s, r)
		if err := s.bucketFull(budget, addrKey); err != nil {
			return nil, err
		}
	}
	if err := s.profileClient(client, authenticated); err != nil {
		return nil, err
	}

	if p["request_uri"] != "" {
		return nil, errPushedURI
	}
	if s.fapi && p["redirect_uri"] == "" {
		return nil, errFAPIPushURI
	}
	params := make(form.Params, len(p))
	for k, v := range p {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type":
			// Credentials are not part of the authorization request.
		default:
			params[k] = v
		}
	}
	params["client_id"] = client.ID
	ar, err := s.validateAuthorize(ctx, params, nil, authorizeSource{client: client, pushing: true})
	if err != nil {
		return nil, pushError(err)
	}
	scope = ar.Scope
	// A DPoP proof at the PAR endpoint binds the code as dpop_jkt does,
	// and must agree with it (RFC 9449 §10.1, R-177).
	var proof *DPoPProof
	if s.dpop != nil {
		if proof, err = s.ValidateDPoPProof(r, ""); err != nil {
			return nil, err
		}
	}
	if proof != nil {
		if j := params["dpop_jkt"]; j != "" && j != proof.JKT {
			return nil, errDPoPJKTMismatch
		}
		params["dpop_jkt"] = proof.JKT
	}
	var charged []string
	if !authenticated {
		// A public client's push is a store write nobody vouches for:
		// charged to its address and the client once it is valid, and
		// given back if nothing is stored.
		if charged, err = s.admitPending(ctx, budget, addrKey, client.ID); err != nil {
			return nil, err
		}
	}
	stored := false
	defer func() {
		if !stored {
			s.refundPending(ctx, budget, charged)
		}
	}()
	ref, err := randomString(s.opts.Rand, 32)
	if err != nil {
		return nil, storeError("generate request_uri", err)
	}
	now := s.now()
	req := &PushedAuthorizationRequest{
		RequestURI: RequestURIPrefix + ref,
		ClientID:   client.ID,
		Parameters: encodeParams(params),
		IssuedAt:   now,
		ExpiresAt:  now.Add(s.opts.PAR.Lifetime),
	}
	if err := s.pars.SavePushedAuthorizationRequest(ctx, req); err != nil {
		return nil, storeError("SavePushedAuthorizationRequest", err)
	}
	stored = true
	return &PushedAuthorizationResponse{RequestURI: req.RequestURI,
		ExpiresIn: int64((s.opts.PAR.Lifetime + time.Second - 1) / time.Second)}, nil
}

// pushError is the JSON error of the PAR endpoint for an error of the
// authorization request's validation: nothing is redirected there.
func pushError(err error) error {
	var ae *AuthorizeError
	if stderrors.As(err, &ae) {
		return ae.Err
	}
	return err
}

// encodeParams form-encodes p, sorted by key; a parameter that may repeat
// (resource) is written once per value, in order.
func encodeParams(p map[string]string) string {
	v := make(url.Values, len(p))
	for k, val := range p {
		if form.Repeatable(k) {
			v[k] = form.Values(p, k)
			continue
		}
		v.Set(k, val)
	}
	return v.Encode()
}

// loadPushed replaces the front-channel parameters of an authorization
// request that carries request_uri with the pushed ones: the request_uri
// must be known, unexpired, not yet consumed and pushed by the client that
// client_id names; other front-channel parameters are ignored
// . Errors are shown to the user: no redirect URI is validated yet.
func (s *Server) loadPushed(ctx context.Context, p form.Params) (*PushedAuthorizationRequest, form.Params, error) {
	clientID, uri := p["client_id"], p["request_uri"]
	if clientID == "" {
		return nil, nil, errRequestURIID
	}
	if !strings.HasPrefix(uri, RequestURIPrefix) {
		return nil, nil, errBadRequestURI
	}
	req, err := s.pars.GetPushedAuthorizationRequest(ctx, uri)
	if err != nil {
		return nil, nil, storeError("GetPushedAuthorizationRequest", err)
	}
	if req == nil || req.ClientID != clientID || !s.now().Before(req.ExpiresAt) {
		return nil, nil, errBadRequestURI
	}
	params, err := form.Parse(req.Parameters)
	if err != nil || params["client_id"] != clientID {
		return nil, nil, storeError("GetPushedAuthorizationRequest",
			errorf("the stored parameters of a pushed request do not parse or name another client"))
	}
	return req, params, nil
}

// consumePushed spends the request_uri of ar when the decision on it is
// made: of two decisions on one pushed request, one gets through.
func (s *Server) consumePushed(ctx context.Context, ar *AuthorizeRequest) error {
	if ar.RequestURI == "" {
		return nil
	}
	ok, err := s.pars.ConsumePushedAuthorizationRequest(ctx, ar.RequestURI)
	if err != nil {
		return storeError("ConsumePushedAuthorizationRequest", err)
	}
	if !ok {
		return errBadRequestURI
	}
	return nil
}

// parBudget is the budget of public clients' pushes (PAROptions).
func (s *Server) parBudget() pendingBudget {
	return pendingBudget{prefix: "par", perAddr: s.opts.PAR.MaxPendingPerAddress,
		perCli: s.opts.PAR.MaxPendingPerClient, window: s.opts.PAR.Lifetime, full: errPARThrottled}
}

var errPARThrottled = errThrottled.WithDescription("Too many pushed authorization requests from this address or for this client; retry later.")
