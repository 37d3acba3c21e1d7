package memorymodel

import (
	"context"
	"encoding/json"
	"fmt"
)

// SetUserClaims sets the OpenID Connect claims of the user with the given
// ID (OIDC Core §5.1: "name", "email", "email_verified", an "address"
// object, ...), replacing those set before. The claims are stored as their
// JSON form, so the model keeps no reference to the caller's values and
// returns what any JSON store would. An unknown user is an error.
func (m *Model) SetUserClaims(ctx context.Context, userID string, claims map[string]any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stored, err := jsonCopy(claims)
	if err != nil {
		return fmt.Errorf("memorymodel: set user claims: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.userClaims[userID]; !ok {
		return fmt.Errorf("memorymodel: set user claims: no user with id %q", userID)
	}
	m.userClaims[userID] = stored
	return nil
}

// GetUserClaims implements [oauth2server.UserClaimsModel]: the claims set
// with SetUserClaims, an empty map for a user without claims, nil for an
// unknown user.
func (m *Model) GetUserClaims(ctx context.Context, userID string) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	c, ok := m.userClaims[userID]
	m.mu.RUnlock()
	if !ok {
		return nil, nil
	}
	// What SetUserClaims stored is JSON's own types already, so a copy of
	// its objects and arrays suffices; a trip through JSON on every
	// UserInfo request cost 28 allocations.
	return copyJSON(c).(map[string]any), nil
}

// copyJSON deep-copies a value of the types json.Unmarshal produces into
// an interface: objects and arrays are copied, strings, numbers, booleans
// and null are immutable and shared.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = copyJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = copyJSON(e)
		}
		return s
	}
	return v
}

// jsonCopy deep-copies claims through JSON, the form every store keeps
// them in: numbers come back as float64, objects as map[string]any.
func jsonCopy(claims map[string]any) (map[string]any, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}
