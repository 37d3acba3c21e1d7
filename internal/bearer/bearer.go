// Package bearer holds what the Echo middleware and the net/http
// middleware share to authenticate a request with a bearer access token
// (RFC 6750) or a DPoP-bound one (RFC 9449): the configuration checks, the
// extraction of the token from exactly one allowed method, its
// verification, the proof of possession of a DPoP-bound token, the scope
// check and the WWW-Authenticate challenge of every failure. The two
// packages differ only in how they hand the outcome to their framework.
package bearer

import (
	"bytes"
	stderrors "errors"
	"io"
	"net/http"
	"strings"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
)

// DescTokenMissing is the description of the answer to a request without
// a token.
const DescTokenMissing = "The request has no bearer access token."

var (
	errMultipleMethods = oerrors.ErrInvalidRequest.WithDescription("The request uses more than one method to send the access token.")
	errMalformedHeader = oerrors.ErrInvalidRequest.WithDescription("The Authorization header is not a valid Bearer credential.")
	errScope           = oerrors.ErrInsufficientScope.WithDescription("The access token does not have the scope this resource requires.")

	errDowngrade    = oerrors.ErrInvalidToken.WithDescription("The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof.")
	errNotBound     = oerrors.ErrInvalidToken.WithDescription("The access token is not DPoP-bound: send it with the Bearer scheme.")
	errNoProof      = oerrors.ErrInvalidDPoPProof.WithDescription("A DPoP proof is required with a DPoP-bound access token.")
	errProofKey     = oerrors.ErrInvalidDPoPProof.WithDescription("The DPoP proof's key is not the one the access token is bound to.")
	errDPoPMalform  = oerrors.ErrInvalidRequest.WithDescription("The Authorization header is not a valid DPoP credential.")
	proofErrorCodes = map[string]bool{oerrors.ErrInvalidDPoPProof.Code: true, oerrors.ErrUseDPoPNonce.Code: true}
)

// Config is a checked middleware configuration.
type Config struct {
	Server       *oauth2server.Server
	Realm        string
	Scope        []string
	AllowQuery   bool
	AllowBody    bool
	ScopeHeaders bool
	// Audience is the resource the tokens must be for, "" for the default
	// audience ([oauth2server.Server.ValidateAccessTokenFor]).
	Audience string
	// Name prefixes the configuration errors and the log message of a
	// server fault, e.g. "oauthmw".
	Name string

	maxBody int64
}

// Check validates c and fills its defaults: the Server's realm and its
// body limit; Scope is parsed as a scope parameter.
func (c *Config) Check() error {
	if c.Server == nil {
		return stderrors.New(c.Name + ": AuthenticateConfig.Server is required")
	}
	if !c.Server.CanVerifyAccessTokens() {
		// Every request would fail with server_error: say so at startup.
		return stderrors.New(c.Name + ": the Server cannot verify access tokens: its model lacks " +
			"AccessTokenModel (GetAccessToken) and it does not issue JWT access tokens (Options.JWT)")
	}
	if c.Realm == "" {
		c.Realm = c.Server.Realm()
	}
	if strings.ContainsAny(c.Realm, "\"\\\r\n") {
		return stderrors.New(c.Name + ": Realm must not contain quotes, backslashes or line breaks")
	}
	scope, err := oauth2server.ParseScope(oauth2server.FormatScope(c.Scope))
	if err != nil {
		return stderrors.New(c.Name + ": AuthenticateConfig.Scope holds an invalid scope token")
	}
	c.Scope = scope
	c.maxBody = c.Server.Options().MaxBodyBytes
	return nil
}

// Failure is the answer to a request that failed authentication.
type Failure struct {
	// Status is the HTTP status: 401, 400, 403, 413, 500, ...
	Status int
	// Challenge is the WWW-Authenticate value; empty for a server fault,
	// which is answered without one.
	Challenge string
	// Body is the JSON body: no error code when Missing.
	Body *oauth2server.ErrorBody
	// Missing is set when the request carried no token (RFC 6750 §3.1).
	Missing bool
	// Err is the OAuth error; nil when Missing.
	Err *oerrors.Error
	// Nonce is the DPoP nonce to send in a DPoP-Nonce header, with
	// use_dpop_nonce (RFC 9449 §9).
	Nonce string
}

// MissingFailure is the answer to a request without a token, realm "" for
// none: a bare Bearer challenge and a body without an error code.
func MissingFailure(realm string) *Failure {
	ch := "Bearer"
	if realm != "" {
		ch += ` realm="` + realm + `"`
	}
	return &Failure{Status: http.StatusUnauthorized, Challenge: ch,
		Body: &oauth2server.ErrorBody{ErrorDescription: DescTokenMissing}, Missing: true}
}

// Authenticate extracts and verifies the token of r and checks c.Scope,
// setting the scope headers on h when asked to. Bearer tokens travel only
// over TLS (RFC 6750 §5.3) when the Server requires it. A DPoP-bound token
// needs the DPoP scheme and a proof of its key.
func (c *Config) Authenticate(h http.Header, r *http.Request) (*oauth2server.Token, *Failure) {
	if err := c.Server.CheckTLS(r); err != nil {
		return nil, c.Fail(r, err, nil)
	}
	raw, dpop, err := c.extract(r)
	if err != nil {
		return nil, c.failScheme(r, err, nil, dpop)
	}
	if raw == "" {
		f := MissingFailure(c.Realm)
		if c.Server.DPoPEnabled() {
			// Both schemes are accepted here: say so (RFC 9449 §7.1).
			f.Challenge += ", " + c.dpopChallenge("")
		}
		return nil, f
	}
	tok, err := c.Server.ValidateAccessTokenFor(r.Context(), raw, c.Audience)
	if err != nil {
		return nil, c.failScheme(r, err, nil, dpop)
	}
	if err := c.senderConstraint(r, raw, dpop, tok); err != nil {
		if err != errNotBound {
			// A bad proof, or a bound token without one: what a stolen
			// token looks like (an audit event, with OnEvent).
			c.Server.RecordDPoPRejection(r, tok, err)
		}
		return nil, c.failScheme(r, err, nil, true)
	}
	if f := c.CheckScope(h, r, tok, c.Scope); f != nil {
		return nil, f
	}
	return tok, nil
}

// senderConstraint checks that a DPoP-bound token came with the DPoP
// scheme and a valid proof of its key, whose ath is the token's hash, and
// that a bearer token did not come with the DPoP scheme (RFC 9449 §7.1).
func (c *Config) senderConstraint(r *http.Request, raw string, dpop bool, tok *oauth2server.Token) error {
	switch {
	case tok.DPoPJKT == "" && dpop:
		return errNotBound
	case tok.DPoPJKT == "":
		return nil
	case !dpop:
		return errDowngrade // no downgrade to Bearer
	}
	proof, err := c.Server.ValidateDPoPProof(r, raw)
	if err != nil {
		return err
	}
	if proof == nil {
		return errNoProof
	}
	if proof.JKT != tok.DPoPJKT {
		return errProofKey
	}
	return nil
}

// CheckScope verifies that tok covers required (RFC 6750 §3.1), after
// setting node oauth2-server's scope headers on h when c.ScopeHeaders.
func (c *Config) CheckScope(h http.Header, r *http.Request, tok *oauth2server.Token, required []string) *Failure {
	if c.ScopeHeaders {
		h.Set("X-OAuth-Scopes", strings.Join(tok.Scope, ", "))
		if len(required) > 0 {
			h.Set("X-Accepted-OAuth-Scopes", strings.Join(required, ", "))
		}
	}
	if len(required) == 0 {
		return nil
	}
	ok, err := c.Server.VerifyScope(r.Context(), tok, required)
	if err != nil {
		return c.Fail(r, err, nil)
	}
	if !ok {
		return c.failScheme(r, errScope, required, tok.DPoPJKT != "")
	}
	return nil
}

// extract returns the access token from exactly one allowed method: the
// Authorization header, the query (AllowQuery) or the form body
// (AllowBody), and whether it came with the DPoP scheme (only when the
// Server accepts DPoP). Disallowed methods are ignored. It returns "" and
// no error when there is no token. The query and the body are read by the parser of
// the token endpoint (internal/form), with its limit and its rules for
// access_token: a repeat, a bad escape or invalid UTF-8 is
// invalid_request, an empty value is no value.
func (c *Config) extract(r *http.Request) (token string, dpop bool, err error) {
	methods := 0

	auth, err := form.Authorization(r.Header)
	if err != nil {
		return "", false, err // several Authorization headers (RFC 6750 §2)
	}
	// Another scheme is not ours to judge: the request carries no bearer
	// token.
	scheme, rest, _ := strings.Cut(auth, " ")
	switch {
	case auth == "":
	case strings.EqualFold(scheme, "Bearer"):
		t := strings.TrimLeft(rest, " ")
		if !validBearer(t) {
			return "", false, errMalformedHeader
		}
		token = t
		methods++
	case strings.EqualFold(scheme, oauth2server.DPoPScheme) && c.Server.DPoPEnabled():
		// RFC 9449 §7.1: the token68 syntax of Bearer.
		t := strings.TrimLeft(rest, " ")
		if !validBearer(t) {
			return "", true, errDPoPMalform
		}
		token, dpop = t, true
		methods++
	}

	if c.AllowQuery {
		t, err := form.Value(r.URL.RawQuery, "access_token")
		if err != nil {
			return "", dpop, err
		}
		if t != "" {
			token = t
			methods++
		}
	}

	if c.AllowBody && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Body != nil &&
		form.IsForm(r.Header.Get("Content-Type")) {
		t, err := bodyToken(r, c.maxBody)
		if err != nil {
			return "", dpop, err
		}
		if t != "" {
			token = t
			methods++
		}
	}

	if methods > 1 {
		return "", dpop, errMultipleMethods
	}
	return token, dpop, nil
}

// bodyToken reads access_token from a form body, within the Server's
// MaxBodyBytes (413 beyond), and puts the body back for the handler.
func bodyToken(r *http.Request, maxBody int64) (string, error) {
	body, err := form.ReadBody(nil, r, maxBody)
	if err != nil {
		return "", err
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return form.Value(string(body), "access_token")
}

// validBearer reports whether t is a b64token (RFC 6750 §2.1):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func validBearer(t string) bool {
	end := len(strings.TrimRight(t, "="))
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := t[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// Fail builds the answer to err with its Bearer challenge (RFC 6750 §3),
// with scope in the challenge when given. Server faults are logged and
// answered without a challenge.
func (c *Config) Fail(r *http.Request, err error, scope []string) *Failure {
	return c.failScheme(r, err, scope, false)
}

// failScheme builds the answer to err with the challenge of the scheme the
// token came with, or must come with: DPoP (RFC 9449 §7.1) with the
// accepted algorithms, Bearer otherwise. A DPoP proof error is 401 there,
// and use_dpop_nonce carries the nonce to use.
func (c *Config) failScheme(r *http.Request, err error, scope []string, dpop bool) *Failure {
	e := oerrors.From(err)
	if proofErrorCodes[e.Code] {
		e = e.WithStatus(http.StatusUnauthorized)
	}
	f := &Failure{Status: e.Status, Err: e,
		Body: &oauth2server.ErrorBody{Error: e.Code, ErrorDescription: e.Description, ErrorURI: e.URI}}
	if oerrors.IsServerError(e) {
		c.Server.Logger().ErrorContext(r.Context(), c.Name+": authentication failed",
			"method", r.Method, "path", r.URL.Path, "error", e.Unwrap())
		return f
	}
	params := `error="` + e.Code + `"`
	if e.Description != "" {
		params += `, error_description="` + quoteSafe(e.Description) + `"`
	}
	if len(scope) > 0 {
		params += `, scope="` + quoteSafe(oauth2server.FormatScope(scope)) + `"`
	}
	if dpop && c.Server.DPoPEnabled() {
		f.Challenge = c.dpopChallenge(params)
		if e.Code == oerrors.ErrUseDPoPNonce.Code {
			f.Nonce = c.Server.DPoPNonce()
		}
		return f
	}
	f.Challenge = `Bearer realm="` + c.Realm + `", ` + params
	return f
}

// dpopChallenge is a DPoP challenge with params and the accepted
// algorithms (RFC 9449 §7.1).
func (c *Config) dpopChallenge(params string) string {
	ch := oauth2server.DPoPScheme + ` realm="` + c.Realm + `", `
	if params != "" {
		ch += params + ", "
	}
	return ch + `algs="` + strings.Join(c.Server.DPoPAlgorithms(), " ") + `"`
}

// quoteSafe drops the characters a quoted-string would need escaped. Our
// descriptions and scope tokens never contain them; this is a guard.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}
