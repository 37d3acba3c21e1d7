package oauth2server

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func encodeBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// parseBasicAuth form-urldecodes both parts (RFC 6749 §2.3.1).
func TestParseBasicAuth(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	var testCases = []struct {
		name         string
		givenHeader  string
		expectID     string
		expectSecret string
		expectOK     bool
	}{
		{"ok, plain", "Basic " + b64("client:secret"), "client", "secret", true},
		{"ok, scheme is case-insensitive", "bAsIc " + b64("client:secret"), "client", "secret", true},
		{"ok, extra spaces before the credentials", "Basic   " + b64("client:secret") + " ", "client", "secret", true},
		{"ok, form-urlencoded ':' '%' '+' and UTF-8", encodeBasic("a:b%c+d", "p:w%+ é"), "a:b%c+d", "p:w%+ é", true},
		{"ok, '+' decodes to a space", "Basic " + b64("my+client:my+secret"), "my client", "my secret", true},
		{"ok, colon in the secret splits at the first colon", "Basic " + b64("client:a:b"), "client", "a:b", true},
		{"ok, empty secret (public client)", "Basic " + b64("client:"), "client", "", true},
		{"nok, empty id", "Basic " + b64(":secret"), "", "", false},
		{"nok, no colon", "Basic " + b64("client"), "", "", false},
		{"nok, bad escape in id", "Basic " + b64("cl%zz:secret"), "", "", false},
		{"nok, bad escape in secret", "Basic " + b64("client:100%"), "", "", false},
		{"nok, invalid UTF-8 in id", "Basic " + b64("%ff:secret"), "", "", false},
		{"nok, invalid UTF-8 in secret", "Basic " + b64("client:%c3"), "", "", false},
		{"nok, bad base64", "Basic !!!!", "", "", false},
		{"nok, unpadded base64", "Basic " + strings.TrimRight(b64("client:secret"), "="), "", "", false},
		{"nok, Bearer", "Bearer " + b64("client:secret"), "", "", false},
		{"nok, scheme only", "Basic", "", "", false},
		{"nok, scheme and space only", "Basic ", "", "", false},
		{"nok, no space after the scheme", "Basic" + b64("client:secret"), "", "", false},
		{"nok, empty", "", "", "", false},
		{"ok, credentials of 3 KiB", "Basic " + b64("client:"+strings.Repeat("s", 3000)), "client", strings.Repeat("s", 3000), true},
		{"nok, credentials over 4 KiB are not decoded", "Basic " + b64("client:"+strings.Repeat("s", 4000)), "", "", false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			id, secret, ok := parseBasicAuth(tc.givenHeader)
			assert.Equal(t, tc.expectOK, ok)
			assert.Equal(t, tc.expectID, id)
			assert.Equal(t, tc.expectSecret, secret)
		})
	}
}

// FuzzParseBasicAuth checks that parseBasicAuth never panics, that what it
// accepts is a non-empty UTF-8 id and a UTF-8 secret, and that encoding
// any id and secret the RFC 6749 §2.3.1 way parses back to them.
func FuzzParseBasicAuth(f *testing.F) {
	for _, s := range []string{
		"Basic Y2xpZW50OnNlY3JldA==", "basic Y2xpZW50Og==", "Basic", "Basic ", "Bearer x", "Basic !!!",
		"Basic OnNlY3JldA==", "Basic JWZmOng=", "Basic YSViOmM=",
	} {
		f.Add(s, "client", "secret")
	}
	f.Add("", "a:b%c+d", "p:w%+ é")
	f.Add("Basic Og==", "", "")
	f.Fuzz(func(t *testing.T, header, id, secret string) {
		gotID, gotSecret, ok := parseBasicAuth(header)
		if ok {
			if gotID == "" || !utf8.ValidString(gotID) || !utf8.ValidString(gotSecret) {
				t.Fatalf("accepted id %q secret %q from %q", gotID, gotSecret, header)
			}
		} else if gotID != "" || gotSecret != "" {
			t.Fatalf("rejected %q but returned values", header)
		}

		if id == "" || !utf8.ValidString(id) || !utf8.ValidString(secret) {
			return
		}
		gotID, gotSecret, ok = parseBasicAuth(encodeBasic(id, secret))
		if !ok || gotID != id || gotSecret != secret {
			t.Fatalf("round trip of %q/%q gave %q/%q ok=%v", id, secret, gotID, gotSecret, ok)
		}
	})
}

func TestParseBasicAuthStackCopy(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	bigSecret := strings.Repeat("k", 600) // decoded beyond the stack buffer
	tests := []struct {
		name               string
		header             string
		expectID, expectPW string
		expectOK           bool
	}{
		{"ok, plain", enc("c1:s3cret"), "c1", "s3cret", true},
		{"ok, lower-case scheme", "basic " + base64.StdEncoding.EncodeToString([]byte("c1:pw")), "c1", "pw", true},
		{"ok, form-urlencoded parts", enc("a%3Ab:p%26w+x"), "a:b", "p&w x", true},
		{"ok, large credentials", enc("c1:" + bigSecret), "c1", bigSecret, true},
		{"ok, empty secret", enc("c1:"), "c1", "", true},
		{"nok, no colon", enc("c1"), "", "", false},
		{"nok, empty id", enc(":pw"), "", "", false},
		{"nok, bad base64", "Basic %%%", "", "", false},
		{"nok, bad base64 large", "Basic " + strings.Repeat("%", 800), "", "", false},
		{"nok, bad escape", enc("c%zz:pw"), "", "", false},
		{"nok, not UTF-8", enc("c\xff:pw"), "", "", false},
		{"nok, bearer", "Bearer abc", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, pw, ok := parseBasicAuth(tt.header)
			assert.Equal(t, tt.expectOK, ok)
			assert.Equal(t, tt.expectID, id)
			assert.Equal(t, tt.expectPW, pw)
		})
	}
}
