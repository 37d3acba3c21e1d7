package oauth2server

import (
	"context"
	"slices"
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var errScopeSyntax = oerrors.ErrInvalidScope.WithDescription("The scope parameter is malformed.")

// Defaults of [Options.MaxScopeTokens] and [Options.MaxScopeBytes].
const (
	DefaultMaxScopeTokens = 100
	DefaultMaxScopeBytes  = 4 << 10
)

var errScopeTooLarge = oerrors.ErrInvalidRequest.WithDescription("The scope parameter has too many values or is too long.")

func (o *Options) fillScopeLimits() error {
	if o.MaxScopeTokens == 0 {
		o.MaxScopeTokens = DefaultMaxScopeTokens
	}
	if o.MaxScopeBytes == 0 {
		o.MaxScopeBytes = DefaultMaxScopeBytes
	}
	if o.MaxScopeTokens < 0 || o.MaxScopeBytes < 0 {
		return errorf("MaxScopeTokens and MaxScopeBytes must not be negative")
	}
	return nil
}

// parseScope is ParseScope within the caps of [Options]: a scope over them
// is refused before a single token is looked at.
func (s *Server) parseScope(scope string) ([]string, error) {
	return parseScopeLimited(scope, s.opts.MaxScopeTokens, s.opts.MaxScopeBytes)
}

// ParseScope splits a scope parameter into its scope tokens (RFC 6749
// §3.3): space-delimited, each 1*( %x21 / %x23-5B / %x5D-7E ). Duplicates
// are removed, order is kept. An empty string gives nil. A malformed scope is
// an invalid_scope error.
//
// It runs in time linear in len(s) and has no cap of its own; the Server
// applies [Options.MaxScopeTokens] and [Options.MaxScopeBytes] to every
// scope it receives.
//
// The tokens are cut from a copy of s, never from s itself: s is usually a
// piece of a request body, and a stored token's scope must not keep that
// body (which may hold a password or a client secret) alive in memory.
func ParseScope(s string) ([]string, error) {
	return parseScopeLimited(s, 0, 0)
}

// parseScopeLimited is ParseScope refusing more than maxTokens tokens or
// maxBytes bytes (0: no cap), duplicates included. Duplicates are found with a set once the
// list is longer than a few tokens, so the work stays linear.
func parseScopeLimited(s string, maxTokens, maxBytes int) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if maxBytes > 0 && len(s) > maxBytes {
		return nil, errScopeTooLarge
	}
	n := strings.Count(s, " ") + 1
	s = strings.Clone(s)
	out := make([]string, 0, min(n, 64))
	var seen map[string]struct{}
	count := 0
	for rest := s; rest != ""; {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		if tok == "" {
			// RFC 6749 §3.3 allows exactly one space between tokens, but
			// real clients send doubles; an empty token carries nothing.
			continue
		}
		if count++; maxTokens > 0 && count > maxTokens {
			// Duplicates count: the cap bounds the work, not the result.
			return nil, errScopeTooLarge
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return nil, errScopeSyntax
			}
		}
		if seen == nil && len(out) < 8 {
			// A short list: a scan is cheaper than a map.
			if !slices.Contains(out, tok) {
				out = append(out, tok)
			}
			continue
		}
		if seen == nil {
			seen = make(map[string]struct{}, n)
			for _, t := range out {
				seen[t] = struct{}{}
			}
		}
		if _, dup := seen[tok]; !dup {
			seen[tok] = struct{}{}
			out = append(out, tok)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// FormatScope joins scope tokens with single spaces.
func FormatScope(scope []string) string { return strings.Join(scope, " ") }

// ScopeCovers reports whether every scope in required is in granted. It
// is linear in the total length: long lists are compared through a set.
func ScopeCovers(granted, required []string) bool {
	if len(granted)*len(required) > 256 {
		set := make(map[string]struct{}, len(granted))
		for _, g := range granted {
			set[g] = struct{}{}
		}
		for _, r := range required {
			if _, ok := set[r]; !ok {
				return false
			}
		}
		return true
	}
	for _, r := range required {
		if !slices.Contains(granted, r) {
			return false
		}
	}
	return true
}

// DefaultValidateScope is the ValidateScope used when the model has no
// [ScopeValidator]: a request without scope gets all of the client's
// registered scopes (the documented default of RFC 6749 §3.3); a request
// with scope must stay within them, else invalid_scope.
func DefaultValidateScope(_ context.Context, client *Client, _ *User, scope []string) ([]string, error) {
	if scope == nil {
		return slices.Clone(client.Scopes), nil
	}
	if !ScopeCovers(client.Scopes, scope) {
		return nil, oerrors.ErrInvalidScope.WithDescription("The requested scope exceeds the scope registered for the client.")
	}
	return scope, nil
}

// validateScope runs the model's ValidateScope, or the default.
func (s *Server) validateScope(ctx context.Context, client *Client, user *User, scope []string) ([]string, error) {
	if s.scopes == nil {
		return DefaultValidateScope(ctx, client, user, scope)
	}
	granted, err := s.scopes.ValidateScope(ctx, client, user, scope)
	if err != nil {
		if e := oerrors.From(err); !oerrors.IsServerError(e) {
			return nil, e
		}
		return nil, storeError("ValidateScope", err)
	}
	if granted == nil && scope != nil {
		// node treats a falsy result as a refusal.
		return nil, oerrors.ErrInvalidScope
	}
	return granted, nil
}

// VerifyScope reports whether token covers the required scope, using the
// model's [ScopeVerifier] when it has one.
func (s *Server) VerifyScope(ctx context.Context, token *Token, required []string) (bool, error) {
	if s.verifier == nil {
		return ScopeCovers(token.Scope, required), nil
	}
	ok, err := s.verifier.VerifyScope(ctx, token, required)
	if err != nil {
		return false, storeError("VerifyScope", err)
	}
	return ok, nil
}
