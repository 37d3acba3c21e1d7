package oauth2server

import (
	"context"
	"slices"
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var errScopeSyntax = oerrors.ErrInvalidScope.WithDescription("The scope parameter is malformed.")

// ParseScope splits a scope parameter into its scope tokens (RFC 6749
// §3.3): space-delimited, each 1*( %x21 / %x23-5B / %x5D-7E ). Duplicates
// are removed, order is kept. An empty string gives nil. A malformed scope is
// an invalid_scope error.
func ParseScope(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	out := make([]string, 0, strings.Count(s, " ")+1)
	for rest := s; rest != ""; {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		if tok == "" {
			// RFC 6749 §3.3 allows exactly one space between tokens, but
			// real clients send doubles; an empty token carries nothing.
			continue
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return nil, errScopeSyntax
			}
		}
		if !slices.Contains(out, tok) {
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

// ScopeCovers reports whether every scope in required is in granted.
func ScopeCovers(granted, required []string) bool {
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
