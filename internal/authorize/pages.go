package authorize

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/page"
)

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
func renderConsentPage(w http.ResponseWriter, _ *http.Request, p *oauth2server.ConsentPage) error {
	return page.Render(w, http.StatusOK, consentTemplate, p)
}

// RenderErrorPage writes the built-in error page with err.Status.
func RenderErrorPage(w http.ResponseWriter, _ *http.Request, err *oerrors.Error) error {
	return page.Render(w, err.Status, errorTemplate, err)
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
		status := page.RedirectStatus(r)
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
		page.Redirect(w, status, target)
		return nil
	}
}
