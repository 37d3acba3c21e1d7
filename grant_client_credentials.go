package oauth2server

import "context"

// grantClientCredentials implements RFC 6749 §4.4. Only confidential
// clients reach it (Token refuses public ones), and it never issues a
// refresh token (§4.4.3).
func (s *Server) grantClientCredentials(ctx context.Context, req *TokenRequest) (*issue, error) {
	var user *User
	if s.clientUsers != nil {
		u, err := s.clientUsers.GetUserFromClient(ctx, req.Client)
		if err != nil {
			return nil, storeError("GetUserFromClient", err)
		}
		user = u
	}
	scope, err := s.validateScope(ctx, req.Client, user, req.Scope)
	if err != nil {
		return nil, err
	}
	return &issue{user: user, scope: scope}, nil
}
