package oauth2server

import (
	"strconv"
	"unicode/utf8"
)

// jsonPlain marks the bytes appendJSONString copies as they are: ASCII
// from space on, but for the quote, the backslash and encoding/json's
// HTML escapes. One load per byte instead of six comparisons: tokens and
// ID tokens, hundreds of such bytes, are written on every token response.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string with the escaping of
// encoding/json (including its HTML-safe escapes of <, > and &, and of
// U+2028 and U+2029; invalid UTF-8 becomes U+FFFD). Token responses are
// written with it instead of reflection: they are small, fixed in shape and
// on the hottest path of the server.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSON appends the standard members of t as a JSON object, in the
// order and with the omissions of its struct tags.
func (t *TokenResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, t.AccessToken)
	b = append(b, `,"token_type":`...)
	b = appendJSONString(b, t.TokenType)
	if t.ExpiresIn != 0 {
		b = append(b, `,"expires_in":`...)
		b = strconv.AppendInt(b, t.ExpiresIn, 10)
	}
	if t.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = appendJSONString(b, t.RefreshToken)
	}
	if t.Scope != "" {
		b = append(b, `,"scope":`...)
		b = appendJSONString(b, t.Scope)
	}
	if t.IDToken != "" {
		b = append(b, `,"id_token":`...)
		b = appendJSONString(b, t.IDToken)
	}
	if t.IssuedTokenType != "" {
		b = append(b, `,"issued_token_type":`...)
		b = appendJSONString(b, t.IssuedTokenType)
	}
	return append(b, '}')
}
