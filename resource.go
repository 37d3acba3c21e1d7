package oauth2server

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// maxResources bounds the resource parameters of one request: a client
// names one or a few resource servers.
const maxResources = 16

// ResourceValidator optionally decides, per client, which resource
// indicators (RFC 8707) it may request tokens for: at the authorization,
// PAR and token endpoints. Without it a resource must be one of
// [Options.Resources], for every client; without either, any resource
// parameter is refused with invalid_target.
type ResourceValidator interface {
	// ValidateResource reports whether client may get tokens for
	// resource, an absolute URI without fragment that the Server already
	// checked.
	ValidateResource(ctx context.Context, client *Client, resource string) (bool, error)
}

var (
	errTargetSyntax   = oerrors.ErrInvalidTarget.WithDescription("A resource parameter is not an absolute URI without fragment.")
	errTargetCount    = oerrors.ErrInvalidTarget.WithDescription("The request names too many resources.")
	errTargetDenied   = oerrors.ErrInvalidTarget.WithDescription("A requested resource is unknown or not allowed for this client.")
	errTargetNotGrant = oerrors.ErrInvalidTarget.WithDescription("A requested resource is not part of the grant.")
	errWrongAudience  = oerrors.ErrInvalidToken.WithDescription("The access token is invalid here: it is for another resource.")
)

// parseResources checks each value of the resource parameter (RFC 8707 §2,
// an absolute URI without fragment. Duplicates are dropped;
// nil when there is none.
func parseResources(params []string) ([]string, error) {
	var out []string
	for _, r := range params {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(r, "#") || !printableASCII(r) {
			return nil, errTargetSyntax
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) > maxResources {
		return nil, errTargetCount
	}
	return out, nil
}

// printableASCII reports whether s has only visible ASCII: a URI has no
// spaces or control characters (RFC 3986 §2).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// allowResources checks that client may request every resource: through
// the model's ResourceValidator, or [Options.Resources].
func (s *Server) allowResources(ctx context.Context, client *Client, resources []string) error {
	for _, r := range resources {
		if s.resources != nil {
			ok, err := s.resources.ValidateResource(ctx, client, r)
			if err != nil {
				return storeError("ValidateResource", err)
			}
			if !ok {
				return errTargetDenied
			}
			continue
		}
		if !slices.Contains(s.opts.Resources, r) {
			return errTargetDenied
		}
	}
	return nil
}

// grantResources decides the audience of an access token issued from a
// grant that holds granted resources (a code, a refresh token), for the
// requested ones: none requested keeps the whole grant; a grant
// without resources lets the client name allowed ones; otherwise the
// request must be a subset, which narrows the audience (downscoping).
func (s *Server) grantResources(ctx context.Context, client *Client, granted, requested []string) ([]string, error) {
	switch {
	case len(requested) == 0:
		return granted, nil
	case len(granted) == 0:
		if err := s.allowResources(ctx, client, requested); err != nil {
			return nil, err
		}
		return requested, nil
	}
	for _, r := range requested {
		if !slices.Contains(granted, r) {
			return nil, errTargetNotGrant
		}
	}
	return requested, nil
}

// checkAudience verifies that a token is for audience, "" meaning the
// default one ([Options.Audience]): a token restricted to resources is
// valid at those resources only, any other token at the default audience
// only.
func (s *Server) checkAudience(tok *Token, aud []string, audience string) error {
	if audience == "" {
		audience = s.opts.Audience
	}
	if aud == nil {
		// An opaque token: its audience is its resources, the target of
		// its exchange, or the default.
		aud = s.tokenAudience(tok)
		if len(aud) == 0 {
			aud = []string{s.opts.Audience}
		}
	}
	if !slices.Contains(aud, audience) {
		return errWrongAudience
	}
	return nil
}

// tokenAudience is the aud of an access token: its resources (RFC 8707),
// the target of its exchange (RFC 8693), or the default audience.
func (s *Server) tokenAudience(tok *Token) Audience {
	if len(tok.Resources) > 0 {
		return Audience(tok.Resources)
	}
	if tok.Audience != "" {
		return Audience{tok.Audience}
	}
	if s.opts.Audience == "" {
		return nil
	}
	return Audience{s.opts.Audience}
}

// Audience is the aud member of an introspection answer (RFC 7662 §2.2):
// a string for one audience, an array for several (the resources of RFC
// 8707), omitted when empty.
type Audience []string

// MarshalJSON writes one audience as a string and several as an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON reads a string or an array.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// setupResources checks [Options.Resources] and finds the model's
// ResourceValidator.
func (s *Server) setupResources() error {
	s.resources, _ = Capability[ResourceValidator](s.model)
	for _, r := range s.opts.Resources {
		if got, err := parseResources([]string{r}); err != nil || len(got) != 1 {
			return errorf("Resources: %q is not an absolute URI without fragment (RFC 8707 §2)", r)
		}
	}
	return nil
}

// knownAudience reports whether aud is an audience this server issues
// tokens for, to clientID: the default audience, or resources the client
// may request.
func (s *Server) knownAudience(ctx context.Context, clientID string, aud []string) (bool, error) {
	if len(aud) == 1 && aud[0] == s.opts.Audience {
		return true, nil
	}
	client := &Client{ID: clientID}
	if s.resources != nil {
		c, err := s.model.GetClient(ctx, clientID)
		if err != nil {
			return false, storeError("GetClient", err)
		}
		if c == nil {
			return false, nil
		}
		client = c
	}
	if err := s.allowResources(ctx, client, aud); err != nil {
		if oerrors.IsServerError(err) {
			return false, err
		}
		return false, nil
	}
	return true, nil
}
