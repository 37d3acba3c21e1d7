package oauth2server

// ResponseTypes returns the response_type values the authorization endpoint
// supports (for metadata): "code" when the authorization_code grant is
// enabled, nothing otherwise. The implicit grant's "token" is never offered
// (RFC 9700 §2.1.2).
func (s *Server) ResponseTypes() []string {
	if s.GrantEnabled(GrantAuthorizationCode) {
		return []string{"code"}
	}
	return nil
}
