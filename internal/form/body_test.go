package form

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneByteReader returns its data one byte per Read, like a slow network.
type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestParseBodyReadsWithinLimit(t *testing.T) {
	const body = "grant_type=client_credentials&scope=read"
	tests := []struct {
		name        string
		givenBody   io.Reader
		givenLength int64
		givenLimit  int64
		withWriter  bool
		expectErr   error
		expectScope string
	}{
		{name: "ok, known length", givenBody: strings.NewReader(body), givenLength: int64(len(body)), givenLimit: 1024, expectScope: "read"},
		{name: "ok, unknown length", givenBody: strings.NewReader(body), givenLength: -1, givenLimit: 1024, expectScope: "read"},
		{name: "ok, slow reader", givenBody: &oneByteReader{body}, givenLength: -1, givenLimit: 1024, expectScope: "read"},
		{name: "ok, body exactly at the limit", givenBody: strings.NewReader(body), givenLength: -1, givenLimit: int64(len(body)), expectScope: "read"},
		{name: "ok, with a ResponseWriter", givenBody: strings.NewReader(body), givenLength: int64(len(body)), givenLimit: 1024, withWriter: true, expectScope: "read"},
		{name: "ok, length understated", givenBody: strings.NewReader(body), givenLength: 3, givenLimit: 1024, expectScope: "read"},
		{name: "nok, announced length over the limit", givenBody: strings.NewReader(body), givenLength: 2048, givenLimit: 1024, expectErr: errTooLarge},
		{name: "nok, unknown length over the limit", givenBody: strings.NewReader(body), givenLength: -1, givenLimit: int64(len(body) - 1), expectErr: errTooLarge},
		{name: "nok, understated length over the limit", givenBody: strings.NewReader(body), givenLength: 3, givenLimit: 10, expectErr: errTooLarge},
		{name: "nok, over the limit with a ResponseWriter", givenBody: strings.NewReader(body), givenLength: -1, givenLimit: 10, withWriter: true, expectErr: errTooLarge},
		{name: "nok, read error", givenBody: io.MultiReader(strings.NewReader("a=b"), errReader{}), givenLength: -1, givenLimit: 1024, expectErr: errRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/token", tt.givenBody)
			r.ContentLength = tt.givenLength
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			var w http.ResponseWriter
			if tt.withWriter {
				w = httptest.NewRecorder()
			}
			p, err := ParseBody(w, r, tt.givenLimit)
			if tt.expectErr != nil {
				assert.ErrorIs(t, err, tt.expectErr)
				assert.Same(t, tt.expectErr, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.expectScope, p["scope"])
			assert.Equal(t, "client_credentials", p["grant_type"])
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
