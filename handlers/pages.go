package handlers

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// builtinCSP is the policy of the built-in pages: no scripts, no external
// resources, no framing. form-action is left out on purpose: browsers
// apply it to the redirect that follows the form POST, which goes to the
// client.
const builtinCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

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

func renderConsentPage(c echo.Context, page *ConsentPage) error {
	return renderTemplate(c, http.StatusOK, consentTemplate, page)
}

func renderErrorPage(c echo.Context, err *oerrors.Error) error {
	return renderTemplate(c, err.Status, errorTemplate, err)
}

// renderTemplate executes t into a buffer first, so that a template error
// never leaves half a page behind.
func renderTemplate(c echo.Context, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", builtinCSP)
	return c.HTMLBlob(status, buf.Bytes())
}
