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
	"unsafe"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// DefaultMaxBytes is the default cap on a request body: OAuth forms are a
// few hundred bytes, 64 KiB is ample and keeps a flood of large bodies cheap.
const DefaultMaxBytes = 64 << 10

// Params holds request parameters, each present at most once and never empty.
// The parameters that may repeat hold their values joined; [Values] splits
// them.
type Params map[string]string

// Resource is the parameter of RFC 8707, which may repeat (RFC 8707 §2:
// several resources in one request); read its values with [Values].
const Resource = "resource"

var (
	errRepeated = oerrors.ErrInvalidRequest.WithDescription("The request repeats a parameter.")
	errEncoding = oerrors.ErrInvalidRequest.WithDescription("The request parameters are not valid application/x-www-form-urlencoded UTF-8.")
	errMedia    = oerrors.ErrInvalidRequest.WithDescription("The request body must be application/x-www-form-urlencoded.").WithStatus(http.StatusUnsupportedMediaType)
	errCType    = oerrors.ErrInvalidRequest.WithDescription("The Content-Type header is malformed.")
	errTooLarge = oerrors.ErrInvalidRequest.WithDescription("The request body is too large.").WithStatus(http.StatusRequestEntityTooLarge)
	errMethod   = oerrors.ErrInvalidRequest.WithDescription("The endpoint only accepts POST.").WithStatus(http.StatusMethodNotAllowed)
	errRead     = oerrors.ErrInvalidRequest.WithDescription("The request body could not be read.")

	errAuthorizationRepeated = oerrors.ErrInvalidRequest.WithDescription("The request has more than one Authorization header.")
)

// Parse parses an application/x-www-form-urlencoded string. It rejects
// repeated parameters, bad escapes, ';' separators and invalid UTF-8 with
// invalid_request. Parameters without a value are dropped (RFC 6749 §3.1).
// The parameters that may repeat ([Values]) are the exception.
func Parse(raw string) (Params, error) {
	p := make(Params, 8)
	for raw != "" {
		key, val, rest, err := nextPair(raw)
		if err != nil {
			return nil, err
		}
		raw = rest
		if val == "" {
			// A parameter without a value is treated as omitted, so it can
			// neither count as a repeat nor override another value.
			continue
		}
		if repeatable[key] {
			if strings.IndexByte(val, repeatSep) >= 0 {
				return nil, errSeparator
			}
			if prev, dup := p[key]; dup {
				val = prev + string(repeatSep) + val
			}
		} else if _, dup := p[key]; dup {
			return nil, errRepeated
		}
		p[key] = val
	}
	return p, nil
}

// Value returns the value of the parameter name in raw, "" when it is
// absent or empty, with the rules of [Parse] for that parameter: a second
// non-empty value is invalid_request. The encoding rules hold for all of
// raw (where name is depends on how every pair is split and decoded), but
// other parameters may repeat: they belong to the application, not to
// OAuth. The middleware reads access_token with it (RFC 6750 §2.2, §2.3).
func Value(raw, name string) (string, error) {
	var out string
	for raw != "" {
		key, val, rest, err := nextPair(raw)
		if err != nil {
			return "", err
		}
		raw = rest
		if val == "" || key != name {
			continue
		}
		if out != "" {
			return "", errRepeated
		}
		out = val
	}
	return out, nil
}

// nextPair splits the first '&'-separated pair off raw and decodes it. An
// empty pair is an empty key and value. A ';' (another separator to some
// parsers), a bad escape or invalid UTF-8 is errEncoding.
func nextPair(raw string) (key, val, rest string, err error) {
	pair, rest, _ := strings.Cut(raw, "&")
	if pair == "" {
		return "", "", rest, nil
	}
	if strings.IndexByte(pair, ';') >= 0 {
		return "", "", "", errEncoding
	}
	k, v, _ := strings.Cut(pair, "=")
	if key, err = url.QueryUnescape(k); err != nil {
		return "", "", "", errEncoding
	}
	if val, err = url.QueryUnescape(v); err != nil {
		return "", "", "", errEncoding
	}
	if !utf8.ValidString(key) || !utf8.ValidString(val) {
		return "", "", "", errEncoding
	}
	return key, val, rest, nil
}

// IsForm reports whether a Content-Type header value is
// application/x-www-form-urlencoded, with or without parameters.
func IsForm(contentType string) bool { return formType(contentType) == nil }

// formType checks a Content-Type header value: nil for
// application/x-www-form-urlencoded, errMedia (415, RFC 9110 §15.5.16) for
// no type or another one, errCType (400) for a value that does not parse.
func formType(ct string) error {
	const formType = "application/x-www-form-urlencoded"
	if ct == formType {
		return nil
	}
	if ct == "" {
		return errMedia
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return errCType
	case mt != formType:
		return errMedia
	}
	return nil
}

// ParseBody reads the parameters of a POST request from its body only, never
// from the query (RFC 6749 §2.3.1, §3.2), capping the body at limit bytes.
func ParseBody(w http.ResponseWriter, r *http.Request, limit int64) (Params, error) {
	if r.Method != http.MethodPost {
		return nil, errMethod
	}
	if err := formType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	b, err := ReadBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return Params{}, nil
	}
	// b is a fresh buffer that nothing writes to after this point, so the
	// parameters can share its memory instead of a copy of it.
	return Parse(unsafe.String(&b[0], len(b)))
}

// ReadBody reads the body of r, whatever its method and content type, up
// to limit bytes ([DefaultMaxBytes] when limit is not positive): a longer
// body, announced or read, is invalid_request with status 413, a failed
// read invalid_request. A nil body is empty. With a ResponseWriter, an
// oversized body also tells the server to close the connection.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	return readBody(w, r, limit)
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

// Authorization returns the value of the request's Authorization header,
// "" when there is none. Several Authorization header lines are
// invalid_request: the field holds one credential (RFC 9110 §11.6.2), and
// a request must not use two authentication methods (RFC 6749 §2.3, RFC
// 6750 §2), so they are refused rather than resolved by taking one.
func Authorization(h http.Header) (string, error) {
	// Indexed directly: the key is canonical, and Header.Values would
	// canonicalize it again on every request.
	switch v := h["Authorization"]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", errAuthorizationRepeated
	}
}

// Query parses the query of r with the same rules as [Parse]. It is used
// only by the authorization endpoint, which reads its parameters from the
// query by definition (RFC 6749 §3.1).
func Query(r *http.Request) (Params, error) {
	return Parse(r.URL.RawQuery)
}
