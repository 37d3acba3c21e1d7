package form

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// and the pitfalls of docs/requirements.md.
func TestParse(t *testing.T) {
	var testCases = []struct {
		name        string
		givenRaw    string
		expect      Params
		expectError *oautherrors.Error
	}{
		{name: "ok, empty", givenRaw: "", expect: Params{}},
		{name: "ok, two parameters", givenRaw: "a=1&b=2", expect: Params{"a": "1", "b": "2"}},
		{name: "ok, plus and percent decoding", givenRaw: "a=x+y%2Bz%3A%25&b=%C3%A9", expect: Params{"a": "x y+z:%", "b": "é"}},
		{name: "ok, empty value is omitted (R-12)", givenRaw: "a=&b=2", expect: Params{"b": "2"}},
		{name: "ok, name without '=' is omitted", givenRaw: "a&b=2", expect: Params{"b": "2"}},
		{name: "ok, empty value does not count as a repeat", givenRaw: "a=&a=1&a=", expect: Params{"a": "1"}},
		{name: "ok, empty pairs skipped", givenRaw: "&&a=1&&", expect: Params{"a": "1"}},
		{name: "ok, '=' inside the value", givenRaw: "a=b=c", expect: Params{"a": "b=c"}},
		{name: "ok, empty name with a value", givenRaw: "=v", expect: Params{"": "v"}},
		{name: "ok, encoded semicolon", givenRaw: "a=%3B", expect: Params{"a": ";"}},
		{name: "nok, repeated parameter (R-14)", givenRaw: "a=1&a=2", expectError: errRepeated},
		{name: "nok, repeated after decoding", givenRaw: "a=1&%61=2", expectError: errRepeated},
		// resource may repeat (RFC 8707 §2); its values are joined.
		{name: "ok, resource repeats", givenRaw: "resource=https%3A%2F%2Fa.example&resource=urn%3Ab&x=1",
			expect: Params{"resource": "https://a.example\x00urn:b", "x": "1"}},
		{name: "ok, an empty resource is no value", givenRaw: "resource=&resource=urn%3Ab", expect: Params{"resource": "urn:b"}},
		{name: "nok, bad escape in a value", givenRaw: "a=%zz", expectError: errEncoding},
		{name: "nok, bad escape in a name", givenRaw: "%zz=1", expectError: errEncoding},
		{name: "nok, truncated escape", givenRaw: "a=%4", expectError: errEncoding},
		{name: "nok, semicolon separator", givenRaw: "a=1;b=2", expectError: errEncoding},
		{name: "nok, invalid UTF-8 value (R-15)", givenRaw: "a=%ff", expectError: errEncoding},
		{name: "nok, invalid UTF-8 name", givenRaw: "%c3%28=1", expectError: errEncoding},
		{name: "nok, invalid UTF-8 in an empty-looking pair", givenRaw: "%ff=", expectError: errEncoding},
		{name: "nok, raw invalid UTF-8 byte", givenRaw: "a=\xff", expectError: errEncoding},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.givenRaw)
			if tc.expectError != nil {
				require.Error(t, err)
				assert.Same(t, tc.expectError, err)
				assert.Nil(t, p)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expect, p)
		})
	}
}

func TestErrorValues(t *testing.T) {
	for _, e := range []*oautherrors.Error{errRepeated, errEncoding, errMedia, errTooLarge, errMethod, errRead, errAuthorizationRepeated, errCType} {
		assert.True(t, errors.Is(e, oautherrors.ErrInvalidRequest), e.Description)
	}
	assert.Equal(t, http.StatusRequestEntityTooLarge, errTooLarge.Status)
	assert.Equal(t, http.StatusMethodNotAllowed, errMethod.Status)
	assert.Equal(t, http.StatusUnsupportedMediaType, errMedia.Status)
	assert.Equal(t, http.StatusBadRequest, errCType.Status)
	assert.Equal(t, http.StatusBadRequest, errRepeated.Status)
}

func TestParseBody(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	var testCases = []struct {
		name        string
		givenMethod string
		givenCT     string
		givenBody   string
		givenQuery  string
		givenLimit  int64
		chunked     bool
		expect      Params
		expectError *oautherrors.Error
	}{
		{name: "ok, form body", givenCT: form, givenBody: "a=1", expect: Params{"a": "1"}},
		{name: "ok, charset parameter", givenCT: form + "; charset=utf-8", givenBody: "a=1", expect: Params{"a": "1"}},
		{name: "ok, query never read (R-16)", givenCT: form, givenBody: "a=1", givenQuery: "client_secret=x&a=2", expect: Params{"a": "1"}},
		{name: "ok, empty body", givenCT: form, expect: Params{}},
		{name: "ok, body at the limit", givenCT: form, givenBody: "a=" + strings.Repeat("x", 8), givenLimit: 10, expect: Params{"a": strings.Repeat("x", 8)}},
		{name: "ok, chunked body at the limit", givenCT: form, givenBody: "a=" + strings.Repeat("x", 8), givenLimit: 10, chunked: true, expect: Params{"a": strings.Repeat("x", 8)}},
		{name: "ok, default limit when zero", givenCT: form, givenBody: "a=" + strings.Repeat("x", 60<<10), expect: Params{"a": strings.Repeat("x", 60<<10)}},
		{name: "nok, GET", givenMethod: http.MethodGet, givenCT: form, givenQuery: "a=1", expectError: errMethod},
		{name: "nok, no content type", givenBody: "a=1", expectError: errMedia},
		{name: "nok, JSON", givenCT: "application/json", givenBody: `{"a":1}`, expectError: errMedia},
		{name: "nok, multipart", givenCT: "multipart/form-data; boundary=x", givenBody: "a=1", expectError: errMedia},
		{name: "nok, malformed content type", givenCT: "application/x-www-form-urlencoded; ;", givenBody: "a=1", expectError: errCType},
		{name: "nok, malformed content type of another type", givenCT: "application/json; =", givenBody: "a=1", expectError: errCType},
		{name: "nok, type without subtype", givenCT: "application", givenBody: "a=1", expectError: errMedia},
		{name: "nok, body over the limit", givenCT: form, givenBody: "a=" + strings.Repeat("x", 9), givenLimit: 10, expectError: errTooLarge},
		{name: "nok, chunked body over the limit", givenCT: form, givenBody: "a=" + strings.Repeat("x", 9), givenLimit: 10, chunked: true, expectError: errTooLarge},
		{name: "nok, over the default limit", givenCT: form, givenBody: "a=" + strings.Repeat("x", DefaultMaxBytes), expectError: errTooLarge},
		{name: "nok, repeated parameter", givenCT: form, givenBody: "a=1&a=2", expectError: errRepeated},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.givenMethod
			if method == "" {
				method = http.MethodPost
			}
			target := "/token"
			if tc.givenQuery != "" {
				target += "?" + tc.givenQuery
			}
			req := httptest.NewRequest(method, target, strings.NewReader(tc.givenBody))
			if tc.givenCT != "" {
				req.Header.Set("Content-Type", tc.givenCT)
			}
			if tc.chunked {
				req.ContentLength = -1
			}
			p, err := ParseBody(httptest.NewRecorder(), req, tc.givenLimit)
			if tc.expectError != nil {
				assert.Same(t, tc.expectError, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expect, p)
		})
	}
}

func TestParseBodyEdgeCases(t *testing.T) {
	t.Run("ok, nil body", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Body = nil
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p, err := ParseBody(nil, req, 0)
		require.NoError(t, err)
		assert.Empty(t, p)
	})
	t.Run("nok, read error", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/", iotest.ErrReader(errors.New("connection reset")))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err := ParseBody(nil, req, 0)
		assert.Same(t, errRead, err)
	})
}

func TestQuery(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/authorize?response_type=code&client_id=c&state=", nil)
	p, err := Query(req)
	require.NoError(t, err)
	assert.Equal(t, Params{"response_type": "code", "client_id": "c"}, p)

	req = httptest.NewRequest(http.MethodGet, "/authorize?client_id=a&client_id=b", nil)
	_, err = Query(req)
	assert.Same(t, errRepeated, err)
}

// for one parameter: Value applies Parse's rules to the
// parameter it reads and its encoding rules to every pair, and lets other
// parameters repeat.
func TestValue(t *testing.T) {
	var testCases = []struct {
		name        string
		givenRaw    string
		expect      string
		expectError *oautherrors.Error
	}{
		{name: "ok, absent", givenRaw: "a=1&b=2", expect: ""},
		{name: "ok, empty string", givenRaw: "", expect: ""},
		{name: "ok, present", givenRaw: "a=1&access_token=t0k&b=2", expect: "t0k"},
		{name: "ok, decoded", givenRaw: "access_token=a%2Bb+c", expect: "a+b c"},
		{name: "ok, encoded name", givenRaw: "access%5Ftoken=t", expect: "t"},
		{name: "ok, empty value is omitted (R-12)", givenRaw: "access_token=&access_token=t&access_token=", expect: "t"},
		{name: "ok, other parameters may repeat", givenRaw: "tag=a&tag=b&access_token=t", expect: "t"},
		{name: "nok, repeated (R-14)", givenRaw: "access_token=a&access_token=b", expectError: errRepeated},
		{name: "nok, repeated after decoding", givenRaw: "access_token=a&access%5Ftoken=a", expectError: errRepeated},
		{name: "nok, bad escape in the value", givenRaw: "access_token=%zz", expectError: errEncoding},
		{name: "nok, bad escape in another pair", givenRaw: "access_token=t&a=%zz", expectError: errEncoding},
		{name: "nok, semicolon separator", givenRaw: "a=1;access_token=t", expectError: errEncoding},
		{name: "nok, invalid UTF-8 (R-15)", givenRaw: "access_token=t&a=%ff", expectError: errEncoding},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Value(tc.givenRaw, "access_token")
			if tc.expectError != nil {
				assert.Same(t, tc.expectError, err)
				assert.Empty(t, v)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expect, v)
		})
	}
}

// one Authorization header at most.
func TestAuthorization(t *testing.T) {
	var testCases = []struct {
		name        string
		givenValues []string
		expect      string
		expectError bool
	}{
		{name: "ok, none"},
		{name: "ok, one", givenValues: []string{"Basic YTpi"}, expect: "Basic YTpi"},
		{name: "ok, one empty", givenValues: []string{""}, expect: ""},
		{name: "nok, two of one scheme", givenValues: []string{"Basic YTpi", "Basic YTpi"}, expectError: true},
		{name: "nok, two schemes", givenValues: []string{"Basic YTpi", "Bearer t"}, expectError: true},
		{name: "nok, an empty one beside another", givenValues: []string{"", "Bearer t"}, expectError: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.givenValues {
				h.Add("authorization", v)
			}
			v, err := Authorization(h)
			if tc.expectError {
				assert.Same(t, errAuthorizationRepeated, err)
				assert.Empty(t, v)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expect, v)
		})
	}
}

func TestIsForm(t *testing.T) {
	for ct, expect := range map[string]bool{
		"application/x-www-form-urlencoded":                true,
		"Application/X-WWW-Form-Urlencoded":                true,
		"application/x-www-form-urlencoded; charset=utf-8": true,
		"":                                     false,
		"application/json":                     false,
		"multipart/form-data; boundary=x":      false,
		"application/x-www-form-urlencoded; ;": false,
	} {
		assert.Equal(t, expect, IsForm(ct), ct)
	}
}

// ReadBody reads any method and content type within the limit.
func TestReadBody(t *testing.T) {
	req := httptest.NewRequest(http.MethodPut, "/", strings.NewReader("anything"))
	req.Header.Set("Content-Type", "text/plain")
	b, err := ReadBody(nil, req, 8)
	require.NoError(t, err)
	assert.Equal(t, "anything", string(b))

	req = httptest.NewRequest(http.MethodPatch, "/", strings.NewReader("anything"))
	_, err = ReadBody(nil, req, 7)
	assert.Same(t, errTooLarge, err)

	req = httptest.NewRequest(http.MethodDelete, "/", nil)
	req.Body = nil
	b, err = ReadBody(nil, req, 0)
	require.NoError(t, err)
	assert.Empty(t, b)
}

// FuzzParse checks that Parse never panics, that a successful parse holds
// only non-empty UTF-8 values, that it survives a round trip through
// url.Values encoding unchanged, and that Value agrees with it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a=1", "a=1&b=2", "a=&a=1", "a=1&a=2", "a=%zz", "a=1;b=2", "a=%ff", "=v", "&&", "a=b=c",
		"grant_type=authorization_code&code=x&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		"client_id=a%3Ab%25c%2Bd&client_secret=p+w%C3%A9", "scope=read+write&scope=",
		"audience=a&audience=b&resource=https%3A%2F%2Frs.example", "audience=a%00b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := Parse(raw)
		if err != nil {
			if p != nil {
				t.Fatalf("error %v with params %v", err, p)
			}
			var e *oautherrors.Error
			if !errors.As(err, &e) || e.Code != "invalid_request" {
				t.Fatalf("error %v is not invalid_request", err)
			}
			if _, verr := Value(raw, "any"); err == errEncoding && verr != errEncoding {
				t.Fatalf("Value(%q) = %v, Parse failed with %v", raw, verr, err)
			}
			return
		}
		v := url.Values{}
		for k, val := range p {
			if val == "" {
				t.Fatalf("empty value for %q from %q", k, raw)
			}
			if !utf8.ValidString(k) || !utf8.ValidString(val) {
				t.Fatalf("invalid UTF-8 in %q=%q from %q", k, val, raw)
			}
			if repeatable[k] {
				// Values of a parameter that may repeat round trip
				// one by one; Value, for the others, refuses a repeat.
				for _, x := range Values(p, k) {
					if x == "" {
						t.Fatalf("empty value of %q from %q", k, raw)
					}
					v.Add(k, x)
				}
				continue
			}
			v.Set(k, val)
			if got, err := Value(raw, k); err != nil || got != val {
				t.Fatalf("Value(%q, %q) = %q, %v; Parse has %q", raw, k, got, err, val)
			}
		}
		again, err := Parse(v.Encode())
		if err != nil {
			t.Fatalf("re-parse of %q failed: %v", v.Encode(), err)
		}
		if len(again) != len(p) {
			t.Fatalf("round trip changed %v into %v", p, again)
		}
		for k, val := range p {
			if again[k] != val {
				t.Fatalf("round trip changed %q: %q into %q", k, val, again[k])
			}
		}
		// url.ParseQuery, which the standard library uses, must agree on
		// every value Parse accepted.
		std, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("url.ParseQuery rejects %q that Parse accepted: %v", raw, err)
		}
		for k, val := range p {
			if repeatable[k] {
				var sent []string
				for _, x := range std[k] {
					if x != "" {
						sent = append(sent, x)
					}
				}
				if !slices.Equal(sent, Values(p, k)) {
					t.Fatalf("url.ParseQuery disagrees on %q: %v vs %v", k, sent, Values(p, k))
				}
				continue
			}
			if !containsValue(std[k], val) {
				t.Fatalf("url.ParseQuery disagrees on %q: %v vs %q", k, std[k], val)
			}
		}
	})
}

func containsValue(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// audience and resource may repeat; their values keep their order,
// and no other parameter may.
func TestRepeatableParameters(t *testing.T) {
	tests := []struct {
		name        string
		givenRaw    string
		expect      map[string][]string
		expectError bool
	}{
		{name: "ok, one audience", givenRaw: "audience=a", expect: map[string][]string{"audience": {"a"}}},
		{name: "ok, repeated audience and resource", givenRaw: "audience=a&resource=https%3A%2F%2Frs&audience=b&resource=x",
			expect: map[string][]string{"audience": {"a", "b"}, "resource": {"https://rs", "x"}}},
		{name: "ok, empty values are omitted", givenRaw: "audience=&audience=a&audience=",
			expect: map[string][]string{"audience": {"a"}}},
		{name: "ok, absent is nil", givenRaw: "scope=a", expect: map[string][]string{"audience": nil}},
		{name: "nok, a NUL in a value", givenRaw: "audience=a%00b", expectError: true},
		{name: "nok, another parameter repeated", givenRaw: "audience=a&scope=x&scope=y", expectError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.givenRaw)
			if tc.expectError {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			for name, want := range tc.expect {
				assert.Equal(t, want, Values(p, name), name)
			}
		})
	}
}
