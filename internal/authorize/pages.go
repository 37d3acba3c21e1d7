package authorize

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// builtinCSP is the policy of the built-in pages: no scripts, no external
// resources, no framing. form-action is left out on purpose: browsers
// apply it to the redirect that follows the form POST, which goes to the
// client.
const builtinCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

// htmlContentType is the Content-Type of the built-in pages, spelled as
// Echo's HTMLBlob spells it, so that both layers send the same bytes.
const htmlContentType = "text/html; charset=UTF-8"

var consentTemplate = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize {{.Request.Client.ID}}</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{margin-right:1rem}</style>
</head>
<body>
<h1>Authorize {{.Request.Client.ID}}</h1>
<p>Signed in as <strong>{{if .User.Username}}{{.User.Username}}{{else}}{{.User.ID}}{{end}}</strong>.</p>
{{if .Request.Scope}}<p>The application asks for:</p>
<ul>{{range .Request.Scope}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>The application asks for access to your account.</p>{{end}}
<p>You will be sent back to <code>{{.Request.RedirectURI}}</code>.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Authorization error</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style>
</head>
<body>
<h1>Authorization error</h1>
<p><code>{{.Code}}</code></p>
<p>{{.Description}}</p>
</body>
</html>
`))

// renderConsentPage writes the built-in consent page.
func renderConsentPage(w http.ResponseWriter, _ *http.Request, page *oauth2server.ConsentPage) error {
	return renderTemplate(w, http.StatusOK, consentTemplate, page)
}

// RenderErrorPage writes the built-in error page with err.Status.
func RenderErrorPage(w http.ResponseWriter, _ *http.Request, err *oerrors.Error) error {
	return renderTemplate(w, err.Status, errorTemplate, err)
}

// renderTemplate executes t into a buffer first, so that a template error
// never leaves half a page behind. Like Echo's HTMLBlob, it keeps a
// Content-Type set before.
func renderTemplate(w http.ResponseWriter, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Security-Policy", builtinCSP)
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", htmlContentType)
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// redirect answers with status and Location alone, as Echo's Redirect
// does: no body, unlike http.Redirect, which adds a small HTML page.
func redirect(w http.ResponseWriter, status int, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(status)
}

// RedirectToLogin returns a LoginRequired hook that redirects to loginURL
// with the authorization request's URL in the return_to parameter: 302
// after GET, 303 after POST, so that the browser comes back with a GET.
func RedirectToLogin(loginURL string) func(w http.ResponseWriter, r *http.Request) error {
	sep := "?"
	if strings.Contains(loginURL, "?") {
		sep = "&"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		status := http.StatusFound
		if r.Method == http.MethodPost {
			status = http.StatusSeeOther
		}
		target := loginURL + sep + "return_to=" + url.QueryEscape(r.URL.RequestURI())
		if p, ok := oauth2server.LoginPromptFromContext(r.Context()); ok {
			// The login page must ask for credentials even with a live
			// session (prompt=login, max_age; R-128), and may prefill the
			// hint.
			if p.Reauthenticate {
				target += "&prompt=login"
			}
			if p.LoginHint != "" {
				target += "&login_hint=" + url.QueryEscape(p.LoginHint)
			}
		}
		redirect(w, status, target)
		return nil
	}
}

// setPageHeaders sets the headers every authorization endpoint response
// needs: no framing (RFC 9700 §4.16), no referrer leaking the code or the
// request (RFC 9700 §4.2.4), no caching, and no CORS (RFC 9700 §2.6) even if
// a CORS middleware ran before.
func setPageHeaders(h http.Header) {
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	for _, k := range [...]string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"} {
		h.Del(k)
	}
}
