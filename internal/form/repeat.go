package form

import (
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// errSeparator refuses a value of a repeatable parameter that contains
// repeatSep.
var errSeparator = oerrors.ErrInvalidRequest.WithDescription("A resource or audience value contains a NUL character.")

// repeatable are the parameters that may appear more than once (exempt
// from RFC 6749 §3.1's rule): audience and resource name the targets of a
// token exchange (RFC 8693 §2.1) and resource those of any token request
// (RFC 8707 §2). Parse keeps their values in order, joined by repeatSep,
// which a value may not contain; Values splits them again.
var repeatable = map[string]bool{"audience": true, "resource": true}

// repeatSep joins the values of a repeatable parameter. A NUL is never
// part of a URI or of a logical name, so a value with one is malformed.
const repeatSep = '\x00'

// Values returns the values of a parameter that may repeat, in the order
// sent; nil when it is absent.
func Values(p Params, name string) []string {
	v, ok := p[name]
	if !ok {
		return nil
	}
	return strings.Split(v, string(repeatSep))
}

// Repeatable reports whether the parameter name may repeat, its values
// then read with [Values].
func Repeatable(name string) bool { return repeatable[name] }
