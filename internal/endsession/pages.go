package endsession

import (
	"html/template"
	"net/http"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/page"
)

const style = `<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style>`

var confirmTemplate = template.Must(template.New("confirm").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log out</title>
` + style + `
</head>
<body>
<h1>Log out</h1>
{{with .User}}<p>Signed in as <strong>{{if .Username}}{{.Username}}{{else}}{{.ID}}{{end}}</strong>.</p>
{{end}}<p>Do you want to log out?</p>
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit">Log out</button>
</form>
</body>
</html>
`))

var loggedOutTemplate = template.Must(template.New("logged_out").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Logged out</title>
` + style + `
</head>
<body>
<h1>Logged out</h1>
<p>You are logged out.</p>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Logout error</title>
` + style + `
</head>
<body>
<h1>Logout error</h1>
<p><code>{{.Code}}</code></p>
<p>{{.Description}}</p>
</body>
</html>
`))

func renderConfirmPage(w http.ResponseWriter, _ *http.Request, p *Page) error {
	return page.Render(w, http.StatusOK, confirmTemplate, p)
}

func renderLoggedOutPage(w http.ResponseWriter, _ *http.Request, _ *oauth2server.EndSessionRequest) error {
	return page.Render(w, http.StatusOK, loggedOutTemplate, nil)
}

// RenderErrorPage writes the built-in error page with err.Status.
func RenderErrorPage(w http.ResponseWriter, _ *http.Request, err *oerrors.Error) error {
	return page.Render(w, err.Status, errorTemplate, err)
}
