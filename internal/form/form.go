// Package form parses OAuth 2.0 request parameters with the limits and rules
// of RFC 6749 §3.1 and §3.2: one value per parameter, empty values treated as
// omitted, UTF-8 only, bounded size.
package form

import (
	stderrors "errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// DefaultMaxBytes is the default cap on a request body: OAuth forms are a
// few hundred bytes, 64 KiB is ample and keeps a flood of large bodies cheap.
const DefaultMaxBytes = 64 << 10

// Params holds request parameters, each present at most once and never empty.
type Params map[string]string

var (
	errRepeated = oerrors.ErrInvalidRequest.WithDescription("The request repeats a parameter.")
	errEncoding = oerrors.ErrInvalidRequest.WithDescription("The request parameters are not valid application/x-www-form-urlencoded UTF-8.")
	errMedia    = oerrors.ErrInvalidRequest.WithDescription("The request body must be application/x-www-form-urlencoded.")
	errTooLarge = oerrors.ErrInvalidRequest.WithDescription("The request body is too large.").WithStatus(http.StatusRequestEntityTooLarge)
	errMethod   = oerrors.ErrInvalidRequest.WithDescription("The endpoint only accepts POST.").WithStatus(http.StatusMethodNotAllowed)
	errRead     = oerrors.ErrInvalidRequest.WithDescription("The request body could not be read.")
)

// Parse parses an application/x-www-form-urlencoded string. It rejects
// repeated parameters, bad escapes, ';' separators and invalid UTF-8 with
// invalid_request. Parameters without a value are dropped (RFC 6749 §3.1).
func Parse(raw string) (Params, error) {
	p := make(Params, 8)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return nil, errEncoding
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errEncoding
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errEncoding
		}
		if !utf8.ValidString(key) || !utf8.ValidString(val) {
			return nil, errEncoding
		}
		if val == "" {
			// A parameter without a value is treated as omitted, so it can
			// neither count as a repeat nor override another value.
			continue
		}
		if _, dup := p[key]; dup {
			return nil, errRepeated
		}
		p[key] = val
	}
	return p, nil
}

// ParseBody reads the parameters of a POST request from its body only, never
// from the query (RFC 6749 §2.3.1, §3.2), capping the body at limit bytes.
func ParseBody(w http.ResponseWriter, r *http.Request, limit int64) (Params, error) {
	if r.Method != http.MethodPost {
		return nil, errMethod
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, errMedia
	}
	if ct != "application/x-www-form-urlencoded" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, errMedia
		}
	}
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	if r.Body == nil {
		return Params{}, nil
	}
	b, err := readBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	return Parse(string(b))
}

// readBody reads at most limit bytes of the body into a buffer sized by
// Content-Length. It replaces io.Copy through http.MaxBytesReader, which
// allocated a 32 KiB copy buffer and a reader for every request.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if w != nil {
		// Only http.MaxBytesReader can tell the server to close the
		// connection after an oversized body; keep it when there is a
		// ResponseWriter to tell.
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	size := int64(512)
	if r.ContentLength > 0 {
		// One more byte than announced, so that the EOF is read into the
		// same buffer without growing it.
		size = r.ContentLength + 1
	}
	buf := make([]byte, 0, min(size, limit+1))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errTooLarge
		}
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			var mbe *http.MaxBytesError
			if stderrors.As(err, &mbe) {
				return nil, errTooLarge
			}
			return nil, errRead
		}
	}
}

// Query parses the query of r with the same rules as [Parse]. It is used
// only by the authorization endpoint, which reads its parameters from the
// query by definition (RFC 6749 §3.1).
func Query(r *http.Request) (Params, error) {
	return Parse(r.URL.RawQuery)
}
