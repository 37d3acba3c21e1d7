package oauth2server

// ConsentPage is what the consent page of the authorization endpoint
// shows: the Render hook of the Echo handler (package handlers) and of the
// net/http handler (package nethttp) receives one. It is defined here,
// beside [AuthorizeRequest], so that both packages hand over the same type
// and one template serves an application on either.
type ConsentPage struct {
	// Request is the validated authorization request.
	Request *AuthorizeRequest
	// User is the logged-in user.
	User *User
	// Action is the URL the consent form must POST to: the endpoint with
	// the request's query, so that the POST validates the whole request
	// again instead of trusting form fields for the client or redirect URI.
	Action string
	// CSRFToken must be posted in the form field csrf_token (FieldCSRFToken
	// of package handlers or nethttp). It binds the form to the user, to
	// this exact request and, with SessionFromRequest, to the login
	// session; it expires after CSRFMaxAge and is spent when posted (RFC
	// 6749 §10.12).
	CSRFToken string
}

// LogoutPage is what the logout confirmation page of the end session
// endpoint shows (RP-Initiated Logout §2: without a valid id_token_hint
// the user confirms): the Confirm hook of packages handlers and nethttp
// receives one. Like [ConsentPage] it is defined here so that one template
// serves both packages.
type LogoutPage struct {
	// Request is the validated logout request. Its Client is only a claim
	// of whoever sent the request when HintValid is false: do not present
	// it as the one asking.
	Request *EndSessionRequest
	// User is the logged-in user, nil when unknown (no UserFromRequest).
	User *User
	// Action is where the form posts: the endpoint's path.
	Action string
	// Fields are the hidden fields of the form, in order: the request's
	// parameters and the CSRF token.
	Fields []LogoutField
}

// LogoutField is a hidden field of a [LogoutPage].
type LogoutField struct{ Name, Value string }
