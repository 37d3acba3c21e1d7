// Package page holds what the browser-facing endpoints share, the
// authorization endpoint (internal/authorize) and the end session endpoint
// (internal/endsession), in packages handlers and nethttp alike: the
// headers of every answer, the rendering of the built-in html/template
// pages, bare redirects and the HMAC tokens of their forms.
package page

import (
	"bytes"
	"html/template"
	"net/http"
)

// CSP is the policy of the built-in pages: no scripts, no external
// resources, no framing. form-action is left out on purpose: browsers
// apply it to the redirect that follows the form POST, which goes to the
// client.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

// HTMLContentType is the Content-Type of the built-in pages, spelled as
// Echo's HTMLBlob spells it, so that both layers send the same bytes.
const HTMLContentType = "text/html; charset=UTF-8"

// Render executes t into a buffer first, so that a template error never
// leaves half a page behind, and writes it with status and [CSP]. Like
// Echo's HTMLBlob, it keeps a Content-Type set before.
func Render(w http.ResponseWriter, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", HTMLContentType)
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Redirect answers with status and Location alone, as Echo's Redirect
// does: no body, unlike http.Redirect, which adds a small HTML page.
func Redirect(w http.ResponseWriter, status int, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(status)
}

// RedirectStatus is the status of a redirect answering r: 302 after a
// GET, 303 after a POST, so that the browser follows with a GET and never
// repeats the POST (RFC 9700 §4.12: never 307).
func RedirectStatus(r *http.Request) int {
	if r.Method == http.MethodPost {
		return http.StatusSeeOther
	}
	return http.StatusFound
}

// SetHeaders sets the headers every answer of a browser-facing endpoint
// needs: no framing (RFC 9700 §4.16), no referrer leaking a code or the
// request (RFC 9700 §4.2.4), no caching, and no CORS (RFC 9700 §2.6) even
// if a CORS middleware ran before.
func SetHeaders(h http.Header) {
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
